/*
 * tcpxfer: a loopback TCP transfer through a chosen congestion control, for
 * test guests (built with cc -static).
 *
 *   tcpxfer CC MEGABYTES
 *   sender cc=CC
 *   received=BYTES
 *
 * The sender connects to a listener on 127.0.0.1 with TCP_CONGESTION set
 * to CC before connect(), checks that the socket reports CC, and sends
 * MEGABYTES MiB; a child process receives and counts them.  Exit status 0
 * only when every byte arrived and the socket used CC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 16];

static int die(const char *what)
{
	fprintf(stderr, "tcpxfer: %s: %s\n", what, strerror(errno));
	return 1;
}

static int send_all(const struct sockaddr_in *to, const char *cc, unsigned long long bytes)
{
	char got[64] = "";
	socklen_t len = sizeof(got);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return die("socket");
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)))
		return die("setsockopt TCP_CONGESTION");
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)))
		return die("connect");
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, got, &len))
		return die("getsockopt TCP_CONGESTION");
	printf("sender cc=%s\n", got);
	fflush(stdout);
	if (strcmp(got, cc))
		return 1;
	while (bytes) {
		size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return die("write");
		bytes -= (unsigned long long)w;
	}
	close(fd);
	return 0;
}

/* Receives until EOF; exit status 0 when exactly `want` bytes arrived. */
static int receive_all(int lfd, unsigned long long want)
{
	unsigned long long got = 0;
	ssize_t r;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return die("accept");
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return die("read");
		got += (unsigned long long)r;
	}
	printf("received=%llu\n", got);
	fflush(stdout);
	return got == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	unsigned long long want;
	int lfd, err, status;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: tcpxfer CC MEGABYTES\n");
		return 2;
	}
	want = strtoull(argv[2], NULL, 10) << 20;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return die("socket");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen))
		return die("listen on 127.0.0.1");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return die("fork");
	if (!pid)
		_exit(receive_all(lfd, want));
	close(lfd);
	err = send_all(&addr, argv[1], want);
	/* A sender that never connected leaves the receiver in accept(). */
	if (err)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0)
		return die("waitpid");
	return !err && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}
