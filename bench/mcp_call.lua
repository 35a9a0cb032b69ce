-- wrk script: every request is one MCP `tools/call` of keyward's
-- `http_request` to the benchmark's upstream, POSTed to /mcp in the
-- stateless 2026-07-28 form (no session: the protocol version, client
-- capabilities and client info ride in `_meta`, the method and tool name
-- in the Mcp-Method / Mcp-Name headers), with the agent's bearer token.
--
-- Env: KEYWARD_TOKEN (the agent token). A response counts as a failure
-- unless it is HTTP 200 with a result whose isError is false; done() prints
-- the count (and wrk's own non-2xx count covers the status).

local token = os.getenv("KEYWARD_TOKEN") or error("KEYWARD_TOKEN is not set")
local body = [[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"http_request",]]
  .. [["arguments":{"service":"bench","method":"GET","path":"/v1/charges/ch_1"},]]
  .. [["_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",]]
  .. [["io.modelcontextprotocol/clientCapabilities":{},]]
  .. [["io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}}}]]

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
  req = wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2026-07-28",
    ["Mcp-Method"] = "tools/call",
    ["Mcp-Name"] = "http_request",
  }, body)
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"isError":false', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("failed")
  end
  io.write(string.format("mcp calls that failed: %d\n", n))
end
