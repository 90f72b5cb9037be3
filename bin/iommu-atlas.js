#!/usr/bin/env node
// the CLI bundle (npm run build): one file per command, loaded when the command runs
import { main } from "../dist/bundle/main.js";

process.exitCode = await main(process.argv.slice(2));
