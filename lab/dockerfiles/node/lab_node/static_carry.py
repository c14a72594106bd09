"""Static files a site's build left in its own STATIC_ROOT, carried into the volume the lab collects into."""

import os
import shutil


def carry_build_output(built: str, collected: str) -> str:
    """Copy what the image's build steps left in the site's own STATIC_ROOT (an offline `compress` manifest and
    its files, a bundler's output) into the lab's; files collectstatic wrote win."""
    if not built or not os.path.isdir(built) or os.path.realpath(built) == os.path.realpath(collected):
        return ""
    copied = 0
    for folder, _dirs, files in os.walk(built):
        target_folder = os.path.join(collected, os.path.relpath(folder, built))
        os.makedirs(target_folder, exist_ok=True)
        for name in files:
            target = os.path.join(target_folder, name)
            if not os.path.exists(target):
                shutil.copy2(os.path.join(folder, name), target)
                copied += 1
    return f"{copied} files the build left in {built} carried over" if copied else ""
