# docs/secrets.md: a real OS credential store (a session bus with
# gnome-keyring's Secret Service) and a real OpenBao dev server.
run="$HOME/.run"
mkdir -p "$run" && chmod 700 "$run"
dbus-daemon --session --fork --address="unix:path=$run/bus" --print-pid=3 3>"$run/dbus.pid" >/dev/null
cat "$run/dbus.pid" >>"$DOCS_PIDS"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$run/bus" XDG_RUNTIME_DIR="$run"
printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
pgrep -n -f "gnome-keyring-daemon --unlock" >>"$DOCS_PIDS" || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bao server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$port" >/dev/null 2>&1 &
echo $! >>"$DOCS_PIDS"
export VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN=root
for _ in $(seq 100); do bao status >/dev/null 2>&1 && break; sleep 0.2; done
unset KEYWARD_NO_KEYCHAIN
keyward init >/dev/null 2>&1
printf '%s\n' "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS" "XDG_RUNTIME_DIR=$run" \
  "VAULT_ADDR=$VAULT_ADDR" "VAULT_TOKEN=root" "-KEYWARD_NO_KEYCHAIN" >>"$DOCS_ENV"
