-- forbidden_explain.lua — Fluent Bit Lua filter for fluent-bit.conf: turns
-- one entry (the record itself, read from ForbiddenExplainLog, or fields
-- parsed out of the error log) into a record with Elastic Common Schema
-- names, the entry kept whole under "forbidden_explain".  Entries from the
-- error log (a "level" field present) get their %HH-encoded strings
-- decoded: "%22" -> '"', "%5C" -> '\', "%E2%82%AC" -> the euro sign's bytes.

local function pct(s)
    return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function walk(v)
    if type(v) == "string" then return pct(v) end
    if type(v) == "table" then
        local o = {}
        for k, x in pairs(v) do o[k] = walk(x) end
        return o
    end
    return v
end

local ECS = {   -- entry key -> ECS field (dotted)
    status = {"http", "response", "status_code"},
    method = {"http", "request", "method"},
    request_id = {"http", "request", "id"},
    uri = {"url", "path"},
    client_ip = {"client", "ip"},
    peer_ip = {"source", "ip"},
    user = {"user", "name"},
    path = {"file", "path"},
    reason = {"event", "reason"},
    directive = {"rule", "name"},
    ah = {"error", "code"},
    detail = {"message"},
}

local function put(out, keys, value)
    local t = out
    for i = 1, #keys - 1 do
        t[keys[i]] = t[keys[i]] or {}
        t = t[keys[i]]
    end
    t[keys[#keys]] = value
end

function forbidden_explain_ecs(tag, timestamp, record)
    local fx, out = record, {}
    if record["level"] ~= nil and type(record["fx"]) == "table" then
        fx = walk(record["fx"])
        put(out, {"log", "level"}, record["level"])
    end
    if fx["status"] == nil then
        return -1, timestamp, record        -- not an entry: drop it
    end
    for key, path in pairs(ECS) do
        if fx[key] ~= nil then put(out, path, fx[key]) end
    end
    out["event"] = out["event"] or {}
    out["event"]["kind"] = "event"
    out["event"]["category"] = {"web"}
    out["event"]["type"] = {"access"}
    out["event"]["outcome"] = "failure"
    out["event"]["module"] = "forbidden_explain"
    out["forbidden_explain"] = fx
    return 2, timestamp, out                -- modified, time kept
end
