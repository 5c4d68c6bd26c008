#!/usr/bin/env bash
# `make windows`: the release tray app and CLI for Windows (x86_64), zipped with the WebView2
# loader beside the tray app, into target/copresence-windows-x86_64.zip. Installs what it needs
# (scripts/windows-env.sh). Tauri's installers (NSIS, MSI) download their tools from outside the
# package registries, so this is a zip; docs/desktop.md says what an installer adds.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/windows-env.sh
source scripts/windows-env.sh

/usr/bin/cargo build --release --locked "${windows_build_std[@]}" \
  -p copresence-tray -p copresence-cli --features copresence-tray/custom-protocol

out="$CARGO_TARGET_DIR/$WINDOWS_TARGET/release"
# webview2-com-sys copies the loader for each architecture into its build output.
loader=$(find "$out/build" -path "*webview2-com-sys*" -name WebView2Loader.dll -path "*x64*" |
  head -n1)
[ -n "$loader" ] || { echo "WebView2Loader.dll was not found in the build" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/Copresence"
cp "$out/copresence-tray.exe" "$out/copresence.exe" "$loader" "$stage/Copresence/"
x86_64-w64-mingw32-strip "$stage/Copresence/copresence-tray.exe" "$stage/Copresence/copresence.exe"
cat >"$stage/Copresence/README.txt" <<'EOF'
Copresence for Windows (x86_64)

copresence-tray.exe   the tray app: who is on the sites you follow, notifications on joins and saves
copresence.exe        the command line: watch, join, save, sites, whoami
WebView2Loader.dll    loads Microsoft Edge WebView2 for the popup; keep it beside copresence-tray.exe

Start copresence-tray.exe, open Settings from its tray icon, enter your server's address and token.
The popup needs the WebView2 Runtime, which Windows 11 and current Windows 10 include.
The app registers itself for notifications (as com.copresence.tray) for your user only.
Settings are kept in %APPDATA%\copresence, the token in Windows Credential Manager.
EOF

zip="$PWD/target/copresence-windows-x86_64.zip"
mkdir -p target
rm -f "$zip"
(cd "$stage" && python3 -m zipfile -c "$zip" Copresence)
echo "built $zip:"
python3 -m zipfile -l "$zip"
for exe in copresence-tray.exe copresence.exe; do
  printf '  %s: %s; imports %s\n' "$exe" "$(file -b "$stage/Copresence/$exe" | cut -d, -f1)" \
    "$(x86_64-w64-mingw32-objdump -p "$stage/Copresence/$exe" | grep -oE 'DLL Name: [A-Za-z0-9_.-]+' |
      sed 's/DLL Name: //' | grep -iE 'webview2|^user32|^shell32' | tr '\n' ' ')"
done
