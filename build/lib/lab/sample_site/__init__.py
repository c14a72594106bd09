"""The Django project the lab serves unless it is given another, shipped in the lab's package as
`lab.sample_site` (its own code is `labsite`, beside manage.py)."""
