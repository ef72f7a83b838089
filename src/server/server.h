/* `sinkd serve`: wires config, seized domains, DNS listeners, the pipeline
 * and the store together; handles SIGHUP (reload), SIGTERM/SIGINT (drain and
 * stop) and the privilege drop. */
#ifndef SINKD_SERVER_SERVER_H
#define SINKD_SERVER_SERVER_H

/* `sinkd serve [-c FILE]`. Returns the process exit status. */
int server_cli(int argc, char **argv);

#endif
