"""Where the tracker's files are.

Two kinds of files: those that ship with the code (templates, migrations, the example config)
and those one installation writes (the SQLite database, the generated signing key), which live
in its *instance folder*.

The repository keeps templates/, migrations/ and config.example.toml at its top level. A built
wheel carries copies of them in ``tracker/bundle/`` (setup.py puts them there), so an installed
tracker runs without its checkout; an editable install has no bundle and reads the checkout.

The instance folder is ``TRACKER_INSTANCE`` when that is set, otherwise the folder ``instance``
beside the config file (the config file's own folder when that is already called
``instance``, as the default ``instance/config.toml`` is). It never depends on the working
directory: relative paths are made absolute once, here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLE = PACKAGE_DIR / "bundle"

# The folder that holds templates/, migrations/ and config.example.toml.
SHIPPED_ROOT = _BUNDLE if _BUNDLE.is_dir() else PACKAGE_DIR.parent
TEMPLATES_DIR = SHIPPED_ROOT / "templates"
MIGRATIONS_DIR = SHIPPED_ROOT / "migrations"
EXAMPLE_CONFIG = SHIPPED_ROOT / "config.example.toml"
# Inside the package, installed or not.
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
DATA_DIR = PACKAGE_DIR / "data"

INSTANCE_FOLDER_NAME = "instance"


def default_instance_folder() -> Path:
    """The instance folder when neither ``TRACKER_INSTANCE`` nor ``TRACKER_CONFIG`` says:
    ``instance/`` in the checkout, or ``<prefix>/var/tracker-instance`` for an installed
    wheel (the place Flask chooses for installed applications)."""
    if (PACKAGE_DIR.parent / "pyproject.toml").is_file() and not _BUNDLE.is_dir():
        return PACKAGE_DIR.parent / INSTANCE_FOLDER_NAME
    return Path(sys.prefix) / "var" / "tracker-instance"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``TRACKER_CONFIG``, or ``config.toml`` in the instance folder."""
    env = os.environ if environ is None else environ
    if env.get("TRACKER_CONFIG"):
        return absolute(Path(env["TRACKER_CONFIG"]))
    if env.get("TRACKER_INSTANCE"):
        return absolute(Path(env["TRACKER_INSTANCE"])) / "config.toml"
    return default_instance_folder() / "config.toml"


def instance_folder_for(config_file: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder of an installation configured by ``config_file``."""
    env = os.environ if environ is None else environ
    if env.get("TRACKER_INSTANCE"):
        return absolute(Path(env["TRACKER_INSTANCE"]))
    folder = absolute(config_file).parent
    return folder if folder.name == INSTANCE_FOLDER_NAME else folder / INSTANCE_FOLDER_NAME


def absolute(path: Path) -> Path:
    """``path`` made absolute against the working directory (once, at start-up), without
    resolving symbolic links."""
    return Path(os.path.abspath(path.expanduser()))
