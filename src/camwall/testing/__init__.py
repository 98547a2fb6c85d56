"""Real servers for tests and demos (an RTSP server); nothing here is needed at run time."""
