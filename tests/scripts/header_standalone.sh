#!/bin/sh
# Every public header compiles alone as C99 -pedantic and as C++, with every
# warning an error.
set -eu
include=$1
work=$2
mkdir -p "$work"
cxx=${CXX:-}
if [ -z "$cxx" ]; then
    for candidate in c++ g++ clang++; do
        if command -v "$candidate" >/dev/null 2>&1; then cxx=$candidate; break; fi
    done
fi
[ -n "$cxx" ] || { echo "no C++ compiler found"; exit 1; }
status=0
for header in "$include"/jointvae/*.h; do
    name=$(basename "$header" .h)
    printf '#include "jointvae/%s.h"\nint main(void) { return 0; }\n' "$name" > "$work/$name.c"
    cp "$work/$name.c" "$work/$name.cpp"
    cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$include" -c "$work/$name.c" -o "$work/$name.c.o" || status=1
    cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$include" -c "$work/$name.c" -o "$work/$name.c11.o" || status=1
    "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror -I"$include" -c "$work/$name.cpp" -o "$work/$name.cpp.o" || status=1
done
[ $status -eq 0 ] && echo "all public headers compile alone as C99, C11 and C++11"
exit $status
