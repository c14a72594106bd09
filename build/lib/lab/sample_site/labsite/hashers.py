"""A cheaper password hash for the sample site's demo logins.

Django's default PBKDF2 takes about 0.35 s of CPU per login here, by design. A matrix cell logs in 9
virtual users, so on 2 cores the logins alone took 1.6 of a cell's 1.9 s of traffic, and an
experiment logs in up to 30. The lab measures where sessions live, not how slow a login is, so the
sample site hashes with fewer iterations. Your own site keeps its own PASSWORD_HASHERS.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class LabDemoPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_lab"
    iterations = 1_000
