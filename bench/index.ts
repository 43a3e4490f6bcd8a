// npm run bench — every benchmark, printed as a table. Peers are measured in the same run where one exists.
import { benchAuditSearch } from "./audit-search";

const audit = await benchAuditSearch();
console.log(`\naudit search over ${process.env.BENCH_AUDIT_EVENTS ?? "1000000"} events (${30} runs each; target p95 < 100 ms)`);
console.log("query".padEnd(24), "p50 ms".padStart(8), "p95 ms".padStart(8));
for (const r of audit) console.log(r.name.padEnd(24), r.p50.toFixed(1).padStart(8), r.p95.toFixed(1).padStart(8));
process.exit(0);
