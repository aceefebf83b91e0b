#!/usr/bin/env bash
# The .deb as a user gets it: cpack builds it from the build folder ($1); it is unpacked into a
# clean folder (the files dpkg would install, without root) and checked: the programs, the desktop
# entry and its icon, the dependencies; then the installed programs start: the CLI reports its
# version and generates the default data, the GUI starts headless on the default data and saves a
# screenshot.
set -euo pipefail
build=${1:?usage: test_deb_package.sh BUILD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/package" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
debs=("$work"/package/*.deb)
[[ ${#debs[@]} -eq 1 && -s ${debs[0]} ]] || fail "expected one .deb in $work/package"
deb=${debs[0]}
echo "package: $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"

root=$work/root
dpkg-deb -x "$deb" "$root"
for file in usr/bin/brainprior usr/bin/brainprior-cli usr/share/applications/brainprior.desktop \
  usr/share/icons/hicolor/scalable/apps/brainprior.svg usr/share/doc/brainprior/README.md \
  usr/share/mime/packages/brainprior-project.xml; do
  [[ -s $root/$file ]] || fail "the package has no $file"
done
[[ -x $root/usr/bin/brainprior && -x $root/usr/bin/brainprior-cli ]] || fail "the programs are not executable"

depends=$(dpkg-deb -f "$deb" Depends)
for dependency in libtorch libqt6widgets6 libhdf5 libopencv-imgcodecs dataset-fashion-mnist qt6-qpa-plugins; do
  [[ $depends == *"$dependency"* ]] || fail "Depends lacks $dependency: $depends"
done

desktop=$root/usr/share/applications/brainprior.desktop
grep -qx 'Exec=brainprior %f' "$desktop" || fail "the desktop entry does not start brainprior"
grep -qx 'Icon=brainprior' "$desktop" || fail "the desktop entry names another icon"
grep -qx 'Type=Application' "$desktop" || fail "the desktop entry is not an application"
grep -qx 'MimeType=application/x-brainprior-project;' "$desktop" || fail "the desktop entry does not open projects"
grep -q '<glob pattern="\*.brainprior"/>' "$root/usr/share/mime/packages/brainprior-project.xml" ||
  fail "the MIME type does not claim *.brainprior"

version=$("$root/usr/bin/brainprior-cli" --version)
[[ $version == *"$(dpkg-deb -f "$deb" Version)"* ]] || fail "brainprior-cli --version says '$version'"
"$root/usr/bin/brainprior-cli" -q --threads 1 info default >"$work/info.json" || fail "brainprior-cli info default"
grep -q '"neurons"' "$work/info.json" || fail "brainprior-cli info default printed no dataset summary"

export XDG_CONFIG_HOME=$work/settings QT_QPA_PLATFORM=offscreen
"$root/usr/bin/brainprior" --threads 1 --screenshot "$work/started.png" >"$work/gui.log" 2>&1 ||
  { cat "$work/gui.log" >&2; fail "the installed brainprior did not start"; }
[[ -s $work/started.png ]] || fail "the installed brainprior saved no screenshot"
# A project file, as a file manager passes it (Exec=brainprior %f): the installed app restores it.
cat >"$work/study.brainprior" <<'PROJECT'
{"format": "brainprior project", "version": 1, "panels": {"data": {"source": "default"}},
 "layout": {"tabs": ["data", "similarity"], "current_tab": "similarity"}}
PROJECT
"$root/usr/bin/brainprior" --threads 1 --screenshot "$work/project.png" "$work/study.brainprior" >"$work/gui.log" 2>&1 ||
  { cat "$work/gui.log" >&2; fail "the installed brainprior did not open a project"; }
[[ -s $work/project.png ]] || fail "the installed brainprior saved no screenshot of the project"
echo "installed programs started: CLI $version, GUI screenshot $(($(stat -c %s "$work/started.png") / 1024)) KiB"
