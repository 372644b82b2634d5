# SPDX-License-Identifier: BSD-2-Clause
# schema-table.awk: conf/ldap/pam-recovery.schema as the C table that
# pam-recovery-admin check compares a server's subschema with
# (rec_ldap_probe.c), so that the schema is written once.  One line per
# definition: REC_LDAP_AT(OID, NAME, EQUALITY) for an attribute type,
# REC_LDAP_OC(OID, NAME) for an object class.  Its output is kept as
# pam_recovery/rec_ldap_schema.h (the build needs no generated file);
# tests/e2e_ldap.sh fails when the two differ.  After changing the schema:
#   awk -f scripts/schema-table.awk conf/ldap/pam-recovery.schema >pam_recovery/rec_ldap_schema.h

function flush() {
	if (def == "")
		return
	if (!match(def, /^[a-z]+ \( [0-9.]+ NAME '[A-Za-z0-9]+'/)) {
		print "schema-table.awk: cannot read: " def >"/dev/stderr"
		bad = 1
	}
	split(def, w, " ")
	name = w[5]
	gsub(/'/, "", name)
	if (w[1] == "objectclass")
		printf "REC_LDAP_OC(\"%s\", \"%s\")\n", w[3], name
	else {
		eq = ""
		if (match(def, /EQUALITY [A-Za-z0-9]+/))
			eq = substr(def, RSTART + 9, RLENGTH - 9)
		printf "REC_LDAP_AT(\"%s\", \"%s\", \"%s\")\n", w[3], name, eq
	}
	def = ""
}

BEGIN {
	print "/* SPDX-License-Identifier: BSD-2-Clause */"
	print "/* Made from conf/ldap/pam-recovery.schema by scripts/schema-table.awk. */"
}
/^[ \t]*#/ || /^[ \t]*$/ { next }
tolower($1) == "attributetype" || tolower($1) == "objectclass" {
	flush()
	def = tolower($1)
	$1 = ""
}
{
	gsub(/[ \t]+/, " ")
	def = def " " $0
	gsub(/ +/, " ", def)
}
END {
	flush()
	exit bad
}
