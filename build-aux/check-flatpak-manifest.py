#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks build-aux/flatpak/io.github.catena.Catena.json against the rules we can verify
without Flatpak (none of flatpak-builder, a GNOME runtime or flatpak-builder-lint can be
installed on the development machines): it parses, names our app id and command, uses the
GNOME runtime and SDK, asks for no broad permissions (the same finish-args that
flatpak-builder-lint refuses), pins every remote source (git tag or commit, archives with a
sha256), and builds Catena last with meson.

usage: check-flatpak-manifest.py MANIFEST APP_ID COMMAND
Prints one line per problem and exits 1 when there is any."""

import json
import sys

BROAD = {
    "--filesystem=host": "the whole file system",
    "--filesystem=host:rw": "the whole file system",
    "--filesystem=home": "the whole home folder",
    "--filesystem=home:rw": "the whole home folder",
    "--socket=session-bus": "the whole session bus",
    "--socket=system-bus": "the whole system bus",
    "--device=all": "every device",
    "--talk-name=org.freedesktop.Flatpak": "running commands on the host",
}


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    path, app_id, command = sys.argv[1:]
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{path}: cannot be read as JSON: {e}")
        return 1

    def need(cond, msg):
        if not cond:
            problems.append(msg)

    need(m.get("id") == app_id, f"id is {m.get('id')!r}, not {app_id!r}")
    need(m.get("command") == command, f"command is {m.get('command')!r}, not {command!r}")
    need(m.get("runtime") == "org.gnome.Platform", "runtime is not org.gnome.Platform")
    need(m.get("sdk") == "org.gnome.Sdk", "sdk is not org.gnome.Sdk")
    need(isinstance(m.get("runtime-version"), str), "runtime-version is not a string")

    args = m.get("finish-args", [])
    need(isinstance(args, list) and args, "finish-args is missing")
    for a in args:
        if a in BROAD:
            problems.append(f"finish-args asks for {BROAD[a]} ({a})")
    if "--socket=x11" in args and "--socket=wayland" in args:
        problems.append("--socket=x11 with wayland: use --socket=fallback-x11")
    need("--socket=wayland" in args, "no --socket=wayland")

    modules = m.get("modules", [])
    need(isinstance(modules, list) and modules, "no modules")
    names = set()
    for mod in modules:
        if not isinstance(mod, dict):
            problems.append("a module is not an object (external module files are not checked)")
            continue
        name = mod.get("name", "?")
        need(name not in names, f"module {name} appears twice")
        names.add(name)
        need(mod.get("buildsystem") in ("meson", "cmake", "cmake-ninja", "autotools",
                                        "simple", "qmake"),
             f"module {name}: unknown buildsystem {mod.get('buildsystem')!r}")
        if mod.get("buildsystem") == "simple":
            need(mod.get("build-commands"), f"module {name}: simple without build-commands")
        for key in ("config-opts", "build-commands", "cleanup"):
            v = mod.get(key, [])
            need(isinstance(v, list) and all(isinstance(x, str) for x in v),
                 f"module {name}: {key} is not a list of strings")
        sources = mod.get("sources", [])
        need(sources, f"module {name}: no sources")
        for s in sources:
            t = s.get("type")
            if t == "git" and "url" in s:
                need("tag" in s or "commit" in s,
                     f"module {name}: git source {s['url']} pinned by neither tag nor commit")
                need("branch" not in s, f"module {name}: remote git source follows a branch")
            elif t in ("archive", "file") and "url" in s:
                need("sha256" in s or "sha512" in s, f"module {name}: {t} without a checksum")
            elif t == "git":
                need("path" in s, f"module {name}: git source with neither url nor path")
            elif t not in ("dir", "patch", "shell", "script"):
                problems.append(f"module {name}: unknown source type {t!r}")
    if modules and isinstance(modules[-1], dict):
        need(modules[-1].get("name") == "catena" and modules[-1].get("buildsystem") == "meson",
             "the last module is not catena built with meson")

    for p in problems:
        print(f"{path}: {p}")
    if not problems:
        print(f"{path}: {len(modules)} modules, {len(args)} finish-args: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
