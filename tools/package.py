"""Build the plugin zip: tracked and new files, minus everything marked export-ignore in .gitattributes."""

from __future__ import annotations

import configparser
import fnmatch
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ignored_patterns() -> list[str]:
    """Patterns that .gitattributes marks ``export-ignore`` (not shipped in the plugin)."""
    patterns = []
    for line in (ROOT / ".gitattributes").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and "export-ignore" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def is_ignored(path: str, patterns: list[str]) -> bool:
    """True when ``path`` (relative, POSIX) matches an export-ignore pattern."""
    for pattern in patterns:
        pat = pattern.lstrip("/")
        if pat.endswith("/**"):
            if path.startswith(pat[:-2]):
                return True
        elif fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(Path(path).name, pat):
            return True
    return False


def shipped_files() -> list[str]:
    """Runtime files of the plugin, relative to the repository root."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"tools/package.py lists the plugin's files with git, in a git checkout: {exc}") from exc
    patterns = ignored_patterns()
    return sorted(p for p in out if p and (ROOT / p).is_file() and not is_ignored(p, patterns))


def main() -> int:
    meta = configparser.ConfigParser()
    meta.read(ROOT / "metadata.txt")
    version = meta["general"]["version"]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / f"changelens-{version}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in shipped_files():
            archive.write(ROOT / rel, f"changelens/{rel}")
    sys.stderr.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
