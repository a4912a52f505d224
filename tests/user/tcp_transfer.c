/*
 * tcp_transfer: sends BYTES over a loopback TCP connection whose sender
 * uses the congestion control CC (setsockopt TCP_CONGESTION), and checks
 * the receiver got them all.  Prints "cc=NAME bytes=N".
 *
 *   tcp_transfer CC BYTES
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "tcp_transfer: %s: %s\n", what, strerror(errno));
	return 1;
}

/* The receiving side: reads until EOF, exits 0 when it got `want` bytes. */
static int receive(int lfd, long long want)
{
	static char buf[1 << 16];
	long long got = 0;
	int fd = accept(lfd, NULL, NULL);
	ssize_t n;

	if (fd < 0)
		return die("accept");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += n;
	close(fd);
	return got == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	char cc[32] = "";
	long long want, sent = 0;
	int lfd, fd, status;
	pid_t pid;

	if (argc != 3)
		return fprintf(stderr, "usage: tcp_transfer CC BYTES\n"), 2;
	want = atoll(argv[2]);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len))
		return die("listen");
	pid = fork();
	if (pid == 0)
		_exit(receive(lfd, want));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, argv[1], strlen(argv[1])))
		return die("setsockopt TCP_CONGESTION");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return die("connect");
	len = sizeof(cc) - 1;
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len))
		return die("getsockopt TCP_CONGESTION");
	while (sent < want) {
		size_t n = want - sent < (long long)sizeof(buf) ? (size_t)(want - sent) : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0)
			return die("write");
		sent += w;
	}
	close(fd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return fprintf(stderr, "tcp_transfer: the receiver did not get %lld bytes\n", want), 1;
	printf("cc=%s bytes=%lld\n", cc, sent);
	return 0;
}
