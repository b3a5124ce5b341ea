# cc_tool.sh: build a test or bench driver against the project's own
# library ($B/libbeiand.a, from `make`), so drivers test what ships.
# Source it; then: cc_tool OUT SOURCE... (exit status of the build).
CC=${CC:-cc}
# the Makefile's pkg-config packages (exported by make; asked for when run
# by hand from the top of the checkout)
BEIAND_PKGS=${BEIAND_PKGS:-$(make -s --no-print-directory print-pkgs)}
CC_TOOL_PKGS=$BEIAND_PKGS

cc_tool()
{
	_out=$1
	shift
	_cc_tool_build() {
		$CC -std=c17 -D_GNU_SOURCE -O2 "$@" -Iinclude \
		    $(pkg-config --cflags $CC_TOOL_PKGS libetpan) -o "$_out" \
		    $_cc_tool_srcs "$B/libbeiand.a" \
		    $(pkg-config --libs $CC_TOOL_PKGS) -letpan -lm
	}
	_cc_tool_srcs="$*"
	# a sanitizer build of the library (make asan) needs them at link time
	_cc_tool_build 2>/dev/null || _cc_tool_build -fsanitize=address,undefined
}
