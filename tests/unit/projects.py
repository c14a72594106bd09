"""Project folders written for a test: the files a developer's project would have."""


def make(folder, files: dict[str, str]):
    """Write `files` (relative path -> text) under `folder` and return it."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def read(config):
    """The Site of `config`'s project folder, read as `lab up` reads it."""
    from lab.project.read import read_site

    return read_site(config.site, config.site_choices)
