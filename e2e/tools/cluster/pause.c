/*
 * The sandbox ("pause") process of the local cluster's pods: holds the pod's namespaces, reaps
 * the zombies a shared PID namespace hands it, and exits at once on SIGTERM or SIGINT so that a
 * pod stops without waiting for SIGKILL. No registry is reachable here, so cluster.sh builds
 * this into the sandbox image itself (static, no libc at run time).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction stop = {.sa_handler = quit};
  struct sigaction child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGCHLD, &child, NULL);
  for (;;) {
    pause();
  }
  return EXIT_SUCCESS;
}
