"""The lab's images: built locally from Dockerfiles in this repository, tagged by a hash of their inputs.

Every image starts from one Debian base. When no registry answers, the base is made with
debootstrap and imported. A tag names the content, so a second `lab up` builds nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from lab import resources
from lab.engines.stages import Stage, stage
from lab.errors import ImageBuildError
from lab.model.config import LabConfig
from lab.model.site import Dependencies, Site
from lab.project.files import code_files
from lab.project.image_folders import made_folders
from lab.project.node_versions import frontend_suite
from lab.project.read import read_site
from lab.project.site import project_folders
from lab.project.release_steps import AT_BUILD

REPOSITORY = "django-lab"
DOCKERFILES = resources.DOCKERFILES
NGINX_DIR = resources.NGINX
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
    """One image: a Dockerfile folder, files copied into its context, build arguments, and the images
    of the lab it is built from."""

    key: str
    dockerfile_dir: Path
    extra_dirs: dict[str, Path] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    generated: dict[str, bytes] = field(default_factory=dict)  # files made by the lab (a site's requirements)
    listed: tuple[tuple[str, Path], ...] = ()  # (name in the context, file): a site's code, as chosen
    needs: tuple[str, ...] = ()  # images of the lab built first (their tags are build arguments)
    suite: str | None = None  # the Debian base it starts from, when it starts from one

    def files(self) -> list[tuple[str, Path]]:
        """(name in the build context, file on disk), sorted, without caches and local databases."""
        entries = list(_walk(self.dockerfile_dir, ""))
        for prefix, folder in sorted(self.extra_dirs.items()):
            entries.extend(_walk(folder, prefix.rstrip("/") + "/"))
        entries.extend(self.listed)
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
                info = tar.gettarinfo(str(path), arcname=name)
                # Scripts run in the images: executable whatever the installer kept of their modes.
                with open(path, "rb") as file:
                    info.mode = 0o755 if file.read(2) == b"#!" else 0o644
                    file.seek(0)
                    tar.addfile(info, file)
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
    """The Debian base a lab image starts from (one per Debian release the lab uses)."""
    return f"{REPOSITORY}/base:{suite}"


@dataclass(frozen=True)
class BuildSteps:
    """The site's release steps that run while its image is built, as shell lines: installing its
    front-end's packages (which depend on package.json and its lock only, so a code change reuses them),
    then building it and compiling messages."""

    install: tuple[str, ...] = ()
    frontend: tuple[str, ...] = ()  # building the front end (npm run build), after its install
    build: tuple[str, ...] = ()  # the site's own build steps (compilemessages, its Dockerfile's RUN lines)
    manifests: tuple[tuple[str, Path], ...] = ()  # (path in the site, file): package.json and its lock
    node: bool = False  # the steps run Node.js (Debian's nodejs and npm go into the build stage)
    node_suite: str = ""  # the Debian release whose Node.js builds the front end in its own stage, when not the site's

    def __bool__(self) -> bool:
        return bool(self.install or self.frontend or self.build)


def workspace_packages(folder: Path) -> list[Path]:
    """The package.json of each workspace a front end declares (npm's and yarn's `workspaces`, pnpm's
    pnpm-workspace.yaml `packages`): its dependencies are installed with the root's (pontoon's terser)."""
    import json

    import yaml

    patterns: list[str] = []
    try:
        declared = json.loads((folder / "package.json").read_text()).get("workspaces") or []
    except (OSError, ValueError, AttributeError):
        declared = []
    patterns += declared.get("packages", []) if isinstance(declared, dict) else declared
    if (folder / "pnpm-workspace.yaml").is_file():
        try:
            patterns += (yaml.safe_load((folder / "pnpm-workspace.yaml").read_text()) or {}).get("packages") or []
        except (yaml.YAMLError, AttributeError):
            pass
    found = []
    for pattern in patterns:
        if not isinstance(pattern, str) or pattern.startswith("!"):
            continue
        for member in sorted(folder.glob(pattern.removeprefix("./").rstrip("/"))):
            manifest = member / "package.json"
            if manifest.is_file() and "node_modules" not in manifest.parts and manifest not in found:
                found.append(manifest)
    return found


def in_srv(path: Path, site: Path) -> str:
    """Where a file of the project goes under the image's /srv: the site's in site/, its parent folder's at /srv."""
    return f"site/{path.relative_to(site).as_posix()}" if path.is_relative_to(site) else path.relative_to(site.parent).as_posix()


def repository_files(site: Path, steps: "BuildSteps") -> tuple[tuple[str, Path], ...]:
    """The files of the site's parent folder (not the site's own), when its front end is built there."""
    if not any(name == "package.json" for name, _ in steps.manifests):  # the parent's package.json, at /srv
        return ()
    return tuple(("repository/" + name, path) for name, path in code_files(site.parent)
                 if not path.resolve().is_relative_to(site.resolve()))


def build_steps(read: Site) -> BuildSteps:
    """What runs in the build stage of the site's image: npm in the folder of its package.json, then
    compilemessages."""
    site = Path(read.folder)
    steps = read.release_steps
    install: list[str] = []
    frontend: list[str] = []
    build: list[str] = []
    manifests: list[tuple[str, Path]] = []
    javascript = [step for step in steps if step.action == "build-js"]
    package = next((path.parent for _, path in code_files(site) if path.name == "package.json"), None)
    if package is None and javascript and site.parent in project_folders(site) and (site.parent / "package.json").is_file():
        # The repository's front end, one folder above the site (shynet's `npm i --prefix ..`, tabbycat's
        # `outputDir: ./tabbycat/static/vue`): built in the image's /srv, the site's parent there too.
        package = site.parent
    node_suite = frontend_suite(package / "package.json", read.interpreter.interpreter.suite,
                                project_folders(site)) if (javascript and package is not None) else ""
    if javascript and package is not None:
        folder = Path(os.path.relpath(package, site)).as_posix()
        if package == site.parent:
            # Paths the repository's scripts give into the site (./tabbycat/static) reach /srv/site.
            install.append(f"[ -e /srv/{shlex.quote(site.name)} ] || ln -s /srv/site /srv/{shlex.quote(site.name)}")
        installs = [step for step in javascript if re.search(r"\b(ci|install|i)\b|^(yarn|pnpm)\s*$", step.command)]
        # Each in lab-build-step, so a failure is one line naming the step and where it was found.
        def wrapped(where: str, command: str) -> str:
            # In the package's folder; a `--prefix` the project gave to reach that folder from the site is said already.
            command = re.sub(rf"\s--prefix[= ]{re.escape(folder)}(?=\s|$)", "", command) if folder != "." else command
            return f"lab-build-step {shlex.quote(where)} bash -c {shlex.quote(f'cd {folder} && {command}')}"

        # Debian has npm only: yarn and pnpm come from npm's registry, as corepack would fetch them.
        for tool in ("yarn", "pnpm"):
            if any(step.command.split()[0] == tool for step in javascript):
                install.append(f"command -v {tool} >/dev/null || npm install -g --no-fund {tool}")
        if not installs:
            locked = (package / "package-lock.json").exists()
            install.append(wrapped("package.json", f"npm {'ci' if locked else 'install'}"))
        install += [wrapped(step.where, step.command) for step in installs]
        frontend += [wrapped(step.where, step.command) for step in javascript if step not in installs]
        for name in ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc"):
            if (package / name).is_file():
                manifests.append((in_srv(package / name, site), package / name))
        for member in workspace_packages(package):  # npm ci installs each workspace's dependencies too
            manifests.append((in_srv(member, site), member))
    for step in steps:
        if step.action != "build":
            continue
        arguments = step.command.split("manage.py ", 1)[-1].split("django-admin ", 1)[-1]
        if step.name in AT_BUILD:
            # Without settings: compilemessages finds every locale folder under the code by itself, and a
            # project's settings may need an environment that only a running lab has.
            command = f"env -u DJANGO_SETTINGS_MODULE django-admin {arguments}"
        else:
            # A RUN line of the project's Dockerfile: the site's settings, with the environment it had there.
            env = {"DJANGO_SETTINGS_MODULE": read.settings, **dict(step.env)}
            command = "env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + f" python manage.py {arguments}"
        build.append(f"lab-build-step {shlex.quote(step.where)} {command}")
    return BuildSteps(tuple(install), tuple(frontend), tuple(build), tuple(manifests), bool(javascript), node_suite)


def image_specs(config: LabConfig, site: Site | None = None) -> dict[str, ImageSpec]:
    """Every image a lab with this configuration and site can use, by key (the site read from its folder when
    not given). The site's code is read from its folder: an image's tag is a hash of the files it is built from."""
    site = site or read_site(config.site, config.site_choices)
    node = _node_spec(config, site)
    # The build stage: the same interpreter with a compiler, headers and the lock tools (see site-deps).
    builder = ImageSpec(
        "builder",
        DOCKERFILES / "builder",
        build_args={"FROM_IMAGE": node.tag, "PYTHON": site.interpreter.interpreter.package},
        needs=("node",),
    )
    # The site in two layers over the node: its requirements (when it has any), then its code.
    layers = [node]
    if site.dependencies is not None:
        layers.append(_deps_spec(config, site.dependencies, node, builder))
    steps = build_steps(site)
    site_image = _site_spec(config, Path(site.folder), steps, layers[-1], builder)
    # The release job's image: the site plus gettext and --build-package (only for a project's own release steps).
    release_image = ImageSpec(
        "release",
        DOCKERFILES / "release",
        build_args={"FROM_IMAGE": site_image.tag, "PACKAGES": " ".join(dict.fromkeys(
            ["gettext", *(["nodejs"] if steps.node else []), *config.build_packages]))},
        needs=("site",),
    )
    specs = [*layers, builder, site_image, release_image, *_store_specs(config.base_suite)]
    return {spec.key: spec for spec in specs}


def _node_spec(config: LabConfig, site: Site) -> ImageSpec:
    """The node: the site's interpreter on its Debian release, with Django and the lab's add-on."""
    interpreter = site.interpreter.interpreter
    return ImageSpec(
        "node",
        DOCKERFILES / "node",
        build_args={
            "BASE_IMAGE": base_tag(interpreter.suite),
            "PYTHON": interpreter.package,
            "DJANGO_VERSION": config.django_for(site),
        },
        suite=interpreter.suite,
    )


def _deps_spec(config: LabConfig, dependencies: Dependencies, node: ImageSpec, builder: ImageSpec) -> ImageSpec:
    """The site's requirements as a layer over the node, built in the build stage."""
    generated = {"deps/lab-deps.json": dependencies.spec()}
    if config.build_packages:
        generated["deps/build-debs.txt"] = "".join(f"{name}\n" for name in config.build_packages).encode()
    generated.update({f"deps/{name}": content for name, content in dependencies.files.items()})
    return ImageSpec(
        "site-deps",
        DOCKERFILES / "site-deps",
        build_args={"FROM_IMAGE": node.tag, "BUILDER_IMAGE": builder.tag},
        generated=generated,
        needs=("node", "builder"),
    )


def _site_spec(config: LabConfig, folder: Path, steps, below: ImageSpec, builder: ImageSpec) -> ImageSpec:
    """The site's code over `below`: copied as is, or with its build steps (and a front-end stage on the Debian
    release whose Node.js its package.json asks for)."""
    code = tuple(("site/" + name, path) for name, path in code_files(folder))
    # Folders the project's Dockerfile makes in its app (`RUN mkdir data`): a marker file makes each.
    folders = {f"site/{name}/.lab-folder": b"" for name, _ in made_folders(folder)}
    # A release label is part of the image: a new label is a new version even when the code is the same.
    release = {"LAB_RELEASE": config.release} if config.release else {}
    if not steps:
        return ImageSpec(
            "site", DOCKERFILES / "site", build_args={"FROM_IMAGE": below.tag, **release}, listed=code,
            generated=folders, needs=(below.key,)
        )
    script = lambda lines: ("set -ex\n" + "\n".join(lines) + "\n").encode()  # noqa: E731
    listed = code + tuple(("packages/" + name, path) for name, path in steps.manifests) + repository_files(folder, steps)
    # packages/ is never empty (COPY needs a file): a placeholder the install step removes.
    generated = {"install-steps": script(("rm -rf /srv/.lab-placeholder /srv/.lab-repository", *steps.install)),
                 "packages/.lab-placeholder/keep": b"", "repository/.lab-repository": b"", **folders}
    if steps.node_suite:
        return ImageSpec(
            "site",
            DOCKERFILES / "site-build-frontend",
            extra_dirs={"tools": DOCKERFILES / "site-build"},
            build_args={"FROM_IMAGE": below.tag, "BUILDER_IMAGE": builder.tag,
                        "FRONTEND_IMAGE": base_tag(steps.node_suite), **release},
            generated={**generated, "frontend-steps": script(steps.frontend), "build-steps": script(steps.build)},
            listed=listed,
            needs=(below.key, "builder"),
            suite=steps.node_suite,
        )
    return ImageSpec(
        "site",
        DOCKERFILES / "site-build",
        build_args={"FROM_IMAGE": below.tag, "BUILDER_IMAGE": builder.tag,
                    "WITH_NODE": "1" if steps.node else "", **release},
        generated={**generated, "build-steps": script((*steps.frontend, *steps.build))},
        listed=listed,
        needs=(below.key, "builder"),
    )


def _store_specs(suite: str) -> list[ImageSpec]:
    """nginx and the stores, on the lab's own Debian release."""
    base = {"BASE_IMAGE": base_tag(suite)}
    return [
        ImageSpec("nginx", NGINX_DIR, build_args={**base, "DEBIAN_MIRROR": DEBIAN_MIRROR}, suite=suite),
        *(ImageSpec(key, DOCKERFILES / key, build_args=base, suite=suite)
          for key in ("postgres", "redis", "memcached", "nfs", "pgbouncer", "faults", "registry")),
    ]


def ensure_base(engine: ImageEngine, suite: str, progress: Progress) -> None:
    """Make sure the Debian base exists: pull it when a registry answers, else debootstrap it."""
    tag = base_tag(suite)
    if engine.image_exists(tag):
        return
    with stage(progress, f"base image {suite}") as making:
        if engine.pull(f"debian:{suite}", tag):
            making.finish(f"base image: pulled debian:{suite} as {tag}", summary=f"pulled debian:{suite}")
            return
        progress(f"base image: no registry answers; bootstrapping Debian {suite} with debootstrap (about 30 s)")
        _bootstrap(engine, suite, tag, making)


def _bootstrap(engine: ImageEngine, suite: str, tag: str, making: Stage) -> None:
    """The Debian base made with debootstrap and imported, when no registry gives it."""
    if not shutil.which("debootstrap"):
        raise ImageBuildError(
            f"cannot make the base image {tag}: no registry answers and debootstrap is not installed "
            "(as root on Debian: apt-get install debootstrap)"
        )
    with tempfile.TemporaryDirectory(prefix="lab-rootfs-") as root:
        # An older debootstrap may lack the newest release's script; Debian's scripts are all sid's.
        scripts = Path("/usr/share/debootstrap/scripts")
        script = [] if (scripts / suite).exists() or not (scripts / "sid").exists() else [str(scripts / "sid")]
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", suite, root, DEBIAN_MIRROR, *script],
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
    making.finish(f"base image: {tag} ready in {making.seconds:.0f} s", summary="debootstrap")


def ensure_images(
    engine: ImageEngine, config: LabConfig, keys: Iterable[str], progress: Progress, rebuild: bool = False,
    site: Site | None = None,
) -> dict[str, str]:
    """Build whichever of the named images are missing (and the images they are built from); return
    their tags by key."""
    specs = image_specs(config, site)
    keys = list(keys)
    tags = {}
    wanted: list[str] = []

    def add(key: str) -> None:  # an image's own images first
        for need in specs[key].needs:
            add(need)
        wanted.append(key)

    for key in keys:
        add(key)
    for key in dict.fromkeys(wanted):
        spec = specs[key]
        tags[key] = spec.tag
        # --rebuild builds the images asked for again; the images they are built from only when missing.
        if engine.image_exists(spec.tag) and not (rebuild and key in keys):
            continue
        if spec.suite:
            ensure_base(engine, spec.suite, progress)
        # A stage of its own: a spinner with the build's latest line on a terminal, each line in a log.
        with stage(progress, f"{key} image", f"building image {spec.tag}", prefix=f"  [{key}] ") as building:
            # The engine's errors name the image already (ImageBuildError); no second wrapper.
            try:
                engine.build_image(
                    spec.tag,
                    spec.context(),
                    spec.build_args,
                    {IMAGE_LABEL: key},
                    on_line=building.line,
                    no_cache=rebuild and key in keys,
                )
            except ImageBuildError as error:
                error.image = key  # which of the lab's images (the site's requirements are explained above)
                raise
            building.finish(f"built {spec.tag} in {building.seconds:.0f} s", summary=spec.tag)
    return tags
