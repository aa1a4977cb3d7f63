// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay a fuzz target's corpus without libFuzzer: link this file with
 * one target and give it files or directories (whose regular files are
 * read, in name order).  Each input is fed to LLVMFuzzerTestOneInput()
 * once; a crash or an invariant violation aborts the run (and so fails
 * it), otherwise one kselftest-style TAP line is printed per input and
 * the totals line kselftest_harness prints.  TARGET names the target.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_entry.h"

#ifndef TARGET
#define TARGET "fuzz"
#endif

static unsigned int n_pass;

/* Read @path whole and run the target on it; -1 if it cannot be read. */
static int replay_file(const char *path)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t len;
	FILE *fp;

	fp = fopen(path, "rb");
	if (!fp)
		return -1;
	if (fstat(fileno(fp), &st))
		goto err;
	len = st.st_size;
	/* One byte more so that an empty input is a valid pointer too. */
	buf = malloc(len + 1);
	if (!buf || fread(buf, 1, len, fp) != len)
		goto err;
	fclose(fp);

	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok %u %s: %s\n", ++n_pass, TARGET, path);
	fflush(stdout);
	return 0;
err:
	free(buf);
	fclose(fp);
	return -1;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int replay_dir(const char *dir)
{
	struct dirent **names;
	int i, n, ret = 0;

	n = scandir(dir, &names, not_dot, name_cmp);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!stat(path, &st) && S_ISREG(st.st_mode) &&
		    replay_file(path))
			ret = -1;
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(int argc, char **argv)
{
	int i, ret = 0;

	printf("TAP version 13\n");
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) ||
		    (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) :
					   replay_file(argv[i]))) {
			fprintf(stderr, "%s: cannot read %s\n", TARGET,
				argv[i]);
			ret = 1;
		}
	}
	printf("1..%u\n", n_pass);
	printf("# Totals: pass:%u fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       n_pass, ret);
	return ret;
}
