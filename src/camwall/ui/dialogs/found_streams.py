"""A camera's streams as the add-camera dialogs offer them (no Qt).

"Add ONVIF camera…" and "Find cameras…" both log in to a camera over ONVIF and read its media
profiles (:func:`camwall.control.onvif.discover.read_streams_async`). What they do with the
answer is here, once: which profile is the main stream and which the substream, the text a
URL field shows (the camera's URL, any credentials in it masked), the URL a field's text
stands for (the camera's own URL, with the user and password typed in the dialog), and the
:class:`~camwall.config.Camera` the fields describe. The password is never part of a shown
text or a log line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from camwall.config import Camera, OnvifConfig
from camwall.config.urls import userinfo, with_credentials
from camwall.control.model import StreamProfile, StreamRole
from camwall.redact import mask_url, redact
from camwall.sources import source_kind


@dataclass(frozen=True)
class FoundStreams:
    """The profiles one camera reported, as main and substream choices."""

    profiles: tuple[StreamProfile, ...] = ()

    @property
    def main(self) -> StreamProfile | None:
        """The main stream: the profile the camera marks as main, else its first."""
        fallback = self.profiles[0] if self.profiles else None
        return next((p for p in self.profiles if p.role is StreamRole.MAIN), fallback)

    @property
    def sub(self) -> StreamProfile | None:
        """The substream: a profile marked as sub other than the main one (None: none)."""
        main = self.main
        return next((p for p in self.profiles if p.role is StreamRole.SUB and p is not main), None)

    def real_url(self, shown: str, user: str, password: str) -> str:
        """The URL a field's text stands for: the camera's own URL with the login added.

        Text that is not one of the shown URLs was typed by hand and is taken as it is; a URL
        that carries its own user keeps it.
        """
        shown = shown.strip()
        url = next((p.uri for p in self.profiles if shown == mask_url(p.uri)), shown)
        if not url or not user or userinfo(url)[0] is not None:
            return url
        return with_credentials(url, user, password or None)

    def camera(
        self,
        name: str,
        main: str,
        sub: str,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        taken: Iterable[str] = (),
    ) -> Camera:
        """The camera with the main and sub fields' texts and its ONVIF endpoint.

        Raises ValueError (InvalidSourceError for a URL that cannot be opened) naming what to
        fix: a name already on the wall, no main stream.
        """
        if name in set(taken):
            raise ValueError(f"the wall already has a camera named {name!r}")
        main_url = self.real_url(main, user, password)
        if not main_url:
            raise ValueError("no main stream yet: read the camera's streams first")
        source_kind(main_url)  # a clear InvalidSourceError (a ValueError) for a bad URL
        sub_url = self.real_url(sub, user, password) or None
        if sub_url is not None:
            source_kind(sub_url)
        # The ONVIF password is the stream's (the same account): no second copy of it.
        return Camera(
            name=name,
            url=main_url,
            substream_url=sub_url if sub_url != main_url else None,
            onvif=OnvifConfig(host=host, port=port, user=user or None),
        )


def shown_url(profile: StreamProfile) -> str:
    """The text a URL field shows for ``profile`` (credentials masked)."""
    return mask_url(profile.uri)


def describe(profile: StreamProfile) -> str:
    """One line for people: "main · Profile 1 · H264 · 2560×1440 · 25 fps"."""
    size = f"{profile.width}×{profile.height}" if profile.width and profile.height else "size ?"
    parts = [profile.role.value, profile.name or profile.token, profile.encoding or "?", size]
    if profile.fps:
        parts.append(f"{profile.fps:g} fps")
    return " · ".join(parts)


def free_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is not taken yet."""
    used = set(taken)
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    return name


def scrub(text: str, password: str) -> str:
    """``text`` without URL credentials and without the password itself."""
    text = redact(text)
    return text.replace(password, "***") if password else text
