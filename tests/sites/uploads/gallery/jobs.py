def send_nightly_digest():
    """Emails every user a digest of new photos (once per night, meant to run on one machine)."""
