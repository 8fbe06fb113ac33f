/*
 * The pod sandbox's first process, written for cdk8s-stateful's test images (the real
 * registry.k8s.io/pause is not reachable here). It holds the pod's namespaces open and sleeps
 * until SIGTERM or SIGINT ends it; as PID 1 of the pod it reaps every orphan handed to it, so no
 * zombie outlives its parent. The signals stay blocked except inside sigsuspend(), so none can
 * arrive between the check and the sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) { stop_signal = sig; }

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static void handle(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  sigfillset(&action.sa_mask);
  action.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP : 0;
  if (sigaction(sig, &action, NULL) != 0) {
    perror("pause: sigaction");
    _exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("pause (cdk8s-stateful) 3.10\n");
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "pause: not PID 1: orphans are not handed to this process\n");
  sigset_t blocked, waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &blocked, &waiting) != 0) {
    perror("pause: sigprocmask");
    return 1;
  }
  sigdelset(&waiting, SIGTERM);
  sigdelset(&waiting, SIGINT);
  sigdelset(&waiting, SIGCHLD);
  handle(SIGTERM, on_stop);
  handle(SIGINT, on_stop);
  handle(SIGCHLD, on_child);
  on_child(SIGCHLD); /* children that ended before the handler was set */
  while (!stop_signal) sigsuspend(&waiting);
  fprintf(stderr, "pause: shutting down on signal %d\n", (int)stop_signal);
  return 0;
}
