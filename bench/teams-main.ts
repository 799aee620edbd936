import { runAlone } from "./alone.ts";
import { formatTeamsTable, measureTeams } from "./teams.ts";

// `node bench/teams-main.ts`: only the teams section of `npm run bench` (the
// orchestration overhead per team message beside the default team's per
// iteration), for working on the team engine without the rest.

await runAlone(async ({ signal, say }) => formatTeamsTable(await measureTeams(signal, say)));
