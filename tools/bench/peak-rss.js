// Preloaded into a measured process (`node -r`): at exit, writes the process's peak resident
// set size in KiB to the file named by BENCH_PEAK_RSS_FILE, for the review bench.
"use strict";
const fs = require("fs");
process.on("exit", () => {
    const file = process.env.BENCH_PEAK_RSS_FILE;
    if (file) fs.writeFileSync(file, String(process.resourceUsage().maxRSS));
});
