// How a bench worker process runs: the job as JSON in argv[2], the result as one JSON line on
// stdout, exit 0; a failure's stack on stderr, exit 1 (suite.ts reads both).
export function runWorker<Job, Result>(main: (job: Job) => Promise<Result>): void {
  main(JSON.parse(process.argv[2]) as Job).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
