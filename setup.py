"""Packaging step that pyproject.toml cannot express: the wheel carries the top-level
templates/, migrations/ and config.example.toml in ``tracker/bundle/``, where tracker.paths
finds them, so an installed tracker runs without its checkout. An editable install reads
them from the checkout instead, so nothing is copied for it."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("templates", "migrations", "config.example.toml")


class BuildWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        bundle = Path(self.build_lib) / "tracker" / "bundle"
        shutil.rmtree(bundle, ignore_errors=True)
        bundle.mkdir(parents=True)
        for name in BUNDLED:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(
                    source, bundle / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                shutil.copy2(source, bundle / name)


setup(cmdclass={"build_py": BuildWithBundle})
