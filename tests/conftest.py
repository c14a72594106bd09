def pytest_addoption(parser):
    parser.addoption(
        "--matrix",
        choices=["quick", "full"],
        default="quick",
        help="comparison matrix: a few telling cells (quick, what `make test` runs) or every cell (full)",
    )
    parser.addoption(
        "--experiments",
        choices=["quick", "full"],
        default="quick",
        help="failure experiments: a few cases (quick, what `make test` runs) or every case (full)",
    )
