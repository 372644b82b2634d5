/* SPDX-License-Identifier: BSD-2-Clause */
/* test_module.c: the built module exports exactly the PAM entry points. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
open_module(void)
{
	char path[4096];
	const char *b = getenv("B");
	void *h;

	snprintf(path, sizeof(path), "%s/pam_recovery.so", b != NULL ? b : "build");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		print_error("dlopen %s: %s\n", path, dlerror());
	assert_non_null(h);
	return h;
}

static void
test_entry_points(void **state)
{
	static const char *const want[] = {
		"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
		"pam_sm_open_session", "pam_sm_close_session",
	};
	void *h = open_module();

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(dlsym(h, want[i]));
	dlclose(h);
}

/* Every defined dynamic symbol of the module must be a pam_sm_ function. */
static void
test_nothing_else_exported(void **state)
{
	void *h = open_module();
	struct link_map *lm = NULL;
	const ElfW(Sym) *sym = NULL;
	const char *strtab = NULL;
	size_t nsyms = 0, exported = 0;

	(void)state;
	assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			sym = (const ElfW(Sym) *)d->d_un.d_ptr;
		else if (d->d_tag == DT_STRTAB)
			strtab = (const char *)d->d_un.d_ptr;
	}
	assert_non_null(sym);
	assert_non_null(strtab);
	/* The string table follows the symbol table in every linker layout. */
	nsyms = (size_t)((const char *)strtab - (const char *)sym) / sizeof(*sym);
	for (size_t i = 0; i < nsyms; i++) {
		const char *name = strtab + sym[i].st_name;

		if (sym[i].st_shndx == SHN_UNDEF || sym[i].st_name == 0 ||
		    ELF64_ST_BIND(sym[i].st_info) == STB_LOCAL)
			continue;
		if (strncmp(name, "pam_sm_", 7) != 0)
			print_error("unexpected export: %s\n", name);
		assert_int_equal(strncmp(name, "pam_sm_", 7), 0);
		exported++;
	}
	assert_int_equal(exported, 5);
	/* And the core stays inside. */
	assert_null(dlsym(h, "rec_auth_attempt"));
	assert_null(dlsym(h, "rec_config_set"));
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_points),
		cmocka_unit_test(test_nothing_else_exported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
