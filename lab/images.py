"""The lab's images: built locally from Dockerfiles in this repository, tagged by a hash of their inputs.

Every image starts from one Debian base. When no registry answers, the base is made with
debootstrap and imported. A tag names the content, so a second `lab up` builds nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from .config import PROJECT_ROOT, LabConfig
from .errors import ImageBuildError
from .site import requirements

REPOSITORY = "django-lab"
DOCKERFILES = PROJECT_ROOT / "lab" / "dockerfiles"
NGINX_DIR = PROJECT_ROOT / "nginx"
HOST_CA_BUNDLE = Path(os.environ.get("LAB_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))
DEBIAN_MIRROR = os.environ.get("LAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
IMAGE_LABEL = f"{REPOSITORY}.image"
_SKIPPED = {"__pycache__", ".git", ".venv", "node_modules", "db.sqlite3", ".pytest_cache"}

Progress = Callable[[str], None]


class ImageEngine(Protocol):
    """What image building needs from an engine."""

    def image_exists(self, tag: str) -> bool: ...

    def pull(self, name: str, tag: str) -> bool: ...

    def import_image(self, stream, tag: str, labels: dict) -> None: ...

    def build_image(
        self, tag: str, context: bytes, build_args: dict, labels: dict, on_line: Progress, no_cache: bool = False
    ) -> None: ...


@dataclass(frozen=True)
class ImageSpec:
    """One image: a Dockerfile folder, other folders copied into its context, and build arguments."""

    key: str
    dockerfile_dir: Path
    extra_dirs: dict[str, Path] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    generated: dict[str, bytes] = field(default_factory=dict)  # files made by the lab (a site's requirements)
    base_key: str | None = None  # built FROM this image of the lab (its tag goes in as FROM_IMAGE)

    def files(self) -> list[tuple[str, Path]]:
        """(name in the build context, file on disk), sorted, without caches and local databases."""
        entries = list(_walk(self.dockerfile_dir, ""))
        for prefix, folder in sorted(self.extra_dirs.items()):
            entries.extend(_walk(folder, prefix.rstrip("/") + "/"))
        return sorted(entries)

    @property
    def tag(self) -> str:
        """`django-lab/<key>:<first 12 hex of the inputs' hash>`."""
        digest = hashlib.sha256()
        for name, path in self.files():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        for name, content in sorted(self.generated.items()):
            digest.update(name.encode() + b"\0" + content + b"\0")
        for key, value in sorted(self.build_args.items()):
            digest.update(f"{key}={value}\0".encode())
        return f"{REPOSITORY}/{self.key}:{digest.hexdigest()[:12]}"

    def context(self) -> bytes:
        """The build context as a tar archive, plus this machine's CA bundle so pip and apt trust TLS."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, path in self.files():
                tar.add(str(path), arcname=name, recursive=False)
            for name, content in sorted(self.generated.items()):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            ca = HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.is_file() else b""
            info = tarfile.TarInfo("lab-ca.crt")
            info.size = len(ca)
            tar.addfile(info, io.BytesIO(ca))
        return buffer.getvalue()


def _walk(folder: Path, prefix: str) -> Iterable[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not (set(relative.parts) & _SKIPPED) and path.suffix != ".pyc":
            yield prefix + relative.as_posix(), path


def base_tag(suite: str) -> str:
    """The one Debian base every lab image starts from."""
    return f"{REPOSITORY}/base:{suite}"


def image_specs(config: LabConfig) -> dict[str, ImageSpec]:
    """Every image a lab with this configuration can use, by key."""
    base = {"BASE_IMAGE": base_tag(config.base_suite)}
    node = ImageSpec("node", DOCKERFILES / "node", build_args={**base, "DJANGO_VERSION": config.django_version})
    # The site in two layers over the node: its requirements (when it has any), then its code.
    site_requirements = requirements(Path(config.site), config.requirements)
    layers = [node]
    if site_requirements is not None:
        layers.append(
            ImageSpec(
                "site-deps",
                DOCKERFILES / "site-deps",
                build_args={"FROM_IMAGE": node.tag},
                generated={"requirements.txt": site_requirements.encode()},
                base_key="node",
            )
        )
    layers.append(
        ImageSpec(
            "site",
            DOCKERFILES / "site",
            extra_dirs={"site": Path(config.site)},
            build_args={"FROM_IMAGE": layers[-1].tag},
            base_key=layers[-1].key,
        )
    )
    specs = [
        *layers,
        ImageSpec("nginx", NGINX_DIR, build_args={**base, "DEBIAN_MIRROR": DEBIAN_MIRROR}),
        ImageSpec("postgres", DOCKERFILES / "postgres", build_args=base),
        ImageSpec("redis", DOCKERFILES / "redis", build_args=base),
        ImageSpec("memcached", DOCKERFILES / "memcached", build_args=base),
        ImageSpec("nfs", DOCKERFILES / "nfs", build_args=base),
        ImageSpec("registry", DOCKERFILES / "registry", build_args=base),
    ]
    return {spec.key: spec for spec in specs}


def ensure_base(engine: ImageEngine, suite: str, progress: Progress) -> None:
    """Make sure the Debian base exists: pull it when a registry answers, else debootstrap it."""
    tag = base_tag(suite)
    if engine.image_exists(tag):
        return
    if engine.pull(f"debian:{suite}", tag):
        progress(f"base image: pulled debian:{suite} as {tag}")
        return
    progress(f"base image: no registry answers; bootstrapping Debian {suite} with debootstrap (about 30 s)")
    if not shutil.which("debootstrap"):
        raise ImageBuildError(
            f"cannot make the base image {tag}: no registry answers and debootstrap is not installed "
            "(as root on Debian: apt-get install debootstrap)"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lab-rootfs-") as root:
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", suite, root, DEBIAN_MIRROR],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise ImageBuildError(f"debootstrap {suite} failed (exit {result.returncode}):\n{tail}")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        try:
            engine.import_image(tar.stdout, tag, {IMAGE_LABEL: "base"})
        finally:
            tar.stdout.close()
            tar.wait()
    progress(f"base image: {tag} ready in {time.monotonic() - started:.0f} s")


def ensure_images(
    engine: ImageEngine, config: LabConfig, keys: Iterable[str], progress: Progress, rebuild: bool = False
) -> dict[str, str]:
    """Build whichever of the named images are missing; return their tags by key."""
    specs = image_specs(config)
    tags = {}
    wanted: list[str] = []
    for key in keys:  # an image's base image first
        chain = [key]
        while specs[chain[-1]].base_key:
            chain.append(specs[chain[-1]].base_key)
        wanted.extend(reversed(chain))
    for key in dict.fromkeys(wanted):
        spec = specs[key]
        tags[key] = spec.tag
        if engine.image_exists(spec.tag) and not rebuild:
            continue
        ensure_base(engine, config.base_suite, progress)
        progress(f"building image {spec.tag}")
        started = time.monotonic()
        # The engine's errors name the image already (ImageBuildError); no second wrapper.
        engine.build_image(
            spec.tag,
            spec.context(),
            spec.build_args,
            {IMAGE_LABEL: key},
            on_line=lambda line, key=key: progress(f"  [{key}] {line}"),
            no_cache=rebuild,
        )
        progress(f"built {spec.tag} in {time.monotonic() - started:.0f} s")
    return tags
