# docs/clients/vscode.md: keyward set up, and the client's config with a token in it.
keyward init >/dev/null 2>&1
bash "$DOCS_FIXTURES/../plant-client.sh" vscode
