"""`govbot demo`: a synthetic district driven through the real bot, offline."""
