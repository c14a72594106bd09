"""Virtual users: a browser-like client that logs in through nginx and records what it saw, and the
client containers it runs in."""
