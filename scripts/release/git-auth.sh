# Sourced by the release scripts that push. With GITHUB_TOKEN set, git
# authenticates through environment-only config: nothing is written to
# .git/config, so no later process finds the token there (checkout runs with
# persist-credentials: false). Without it, git uses what it has (tests use a
# local remote). Hooks are off: a pushing step runs no repository hook.
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0=/dev/null
if [ -n "${GITHUB_TOKEN:-}" ]; then
  export GIT_CONFIG_COUNT=2
  export GIT_CONFIG_KEY_1="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  GIT_CONFIG_VALUE_1="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')"
  export GIT_CONFIG_VALUE_1
fi
