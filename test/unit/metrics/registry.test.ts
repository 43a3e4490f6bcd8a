import { describe, expect, it } from "vitest";
import { countAuditEvent, countRollout, gatewayMetrics, methodLabel, noteLinkState, observeHttp, observeTrpc, statusLabel } from "../../../server/metrics/registry";
import { family, parsePrometheus, rawSamples, samples } from "../../fixtures/prometheus-text";

// The gateway's own instruments: one set per process (on globalThis), bounded labels.

describe("the gateway's own metrics", () => {
  it("is one registry however many copies of the module ask", () => {
    expect(gatewayMetrics()).toBe(gatewayMetrics());
    expect((globalThis as { berthMetrics?: unknown }).berthMetrics).toBe(gatewayMetrics());
  });

  it("counts a reconnect only when a link that was up (or tried) comes back", () => {
    const before = gatewayMetrics().reconnects.get("host-r") ?? 0;
    noteLinkState("host-r", "connected", "connecting");
    noteLinkState("host-r", "unreachable", "connected");
    noteLinkState("host-r", "connected", "unreachable");
    noteLinkState("host-r", "connected", undefined);
    expect(gatewayMetrics().reconnects.get("host-r")).toBe(before + 1);
  });

  it("methods and statuses come from fixed sets", () => {
    expect(methodLabel("get")).toBe("GET");
    expect(methodLabel("BREW")).toBe("other");
    expect(methodLabel(undefined)).toBe("other");
    expect(statusLabel(404)).toBe("404");
    expect(statusLabel(0)).toBe("other");
    expect(statusLabel(1234)).toBe("other");
  });

  it("renders histograms, counters and the process's default metrics", async () => {
    observeHttp("GET", "/api/v1/hosts/[hostId]", 200, 0.012);
    observeTrpc("hosts.list", "query", "ok", 0.003);
    countAuditEvent("denied");
    countRollout("stack", "rolled_back");
    const text = await gatewayMetrics().registry.metrics();
    const families = parsePrometheus(text);
    const http = family(families, "berth_http_request_duration_seconds")!;
    expect(http.type).toBe("HISTOGRAM");
    expect(rawSamples(text, "berth_http_request_duration_seconds_count", { method: "GET", route: "/api/v1/hosts/[hostId]", status: "200" })[0]!.value).toBe("1");
    expect(rawSamples(text, "berth_http_request_duration_seconds_bucket", { route: "/api/v1/hosts/[hostId]", le: "0.025" })[0]!.value).toBe("1");
    expect(rawSamples(text, "berth_http_request_duration_seconds_bucket", { route: "/api/v1/hosts/[hostId]", le: "0.01" })[0]!.value).toBe("0");
    expect(family(families, "berth_trpc_procedure_duration_seconds")!.type).toBe("HISTOGRAM");
    expect(rawSamples(text, "berth_trpc_procedure_duration_seconds_count", { procedure: "hosts.list", type: "query", result: "ok" })[0]!.value).toBe("1");
    expect(samples(families, "berth_audit_events_written_total", { outcome: "denied" })[0]!.value).toBe("1");
    expect(samples(families, "berth_rollouts_total", { kind: "stack", result: "rolled_back" })[0]!.value).toBe("1");
    expect(family(families, "process_cpu_seconds_total")).toBeDefined();
    expect(family(families, "nodejs_heap_size_used_bytes")).toBeDefined();
  });
});
