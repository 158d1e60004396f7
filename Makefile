# tcptwin - GNU Makefile (non-recursive).
#   make            build build/tcptwin
#   make test       sanitizer build (ASan+UBSan) + unit, golden and e2e tests
#   make demo       build, bring up a netns lab, record traffic, replay it with copy + intercept, print the report
#   make fuzz       build libFuzzer targets (clang); make fuzz-run FUZZ_TIME=30
#   make bench      benchmarks (not part of make test)
#   make CC=clang   any target with clang; O=dir for another build directory

CC      ?= cc
O       ?= build
WERROR  ?= 1
SAN     ?=
FUZZ_TIME ?= 30

PCAP_CFLAGS := $(shell pkg-config --cflags libpcap 2>/dev/null)
PCAP_LIBS   := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
NETTLE_LIBS := $(shell pkg-config --libs nettle 2>/dev/null || echo -lnettle)
XDP_LIBS    := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wpointer-arith -Wcast-align -Wimplicit-fallthrough -Wundef -Wno-unused-parameter \
	-fno-common
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(SAN),1)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN := -fsanitize=address,undefined
else
OPT := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDSAN :=
endif

CPPFLAGS += -D_GNU_SOURCE -Isrc $(PCAP_CFLAGS)
CFLAGS   += -std=gnu17 $(OPT) $(WARN) -fPIE
LDFLAGS  += -pie $(LDSAN) -Wl,-z,relro,-z,now
LDLIBS   += $(PCAP_LIBS) $(NETTLE_LIBS) $(XDP_LIBS) -lm

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
VERSION := 0.1.0-$(VERSION)

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS     := $(sort $(wildcard src/*/*.h))

.PHONY: all test unit demo fuzz fuzz-run bench clean hdrcheck format tools FORCE
all: $(O)/tcptwin

$(O)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The version string goes into one object only, rebuilt when the string changes
# (a stamp file holds the last one), so a binary never mixes two versions.
$(O)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(O)/obj/src/core/version.o: src/core/version.c $(O)/version.stamp $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -DTW_VERSION='"$(VERSION)"' $(CFLAGS) -c $< -o $@
FORCE:

$(O)/libtw.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/tcptwin: $(O)/obj/src/main.o $(O)/libtw.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(O)/libtw.a $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(O)/libtw.a $(LDFLAGS) $(CMOCKA_LIBS) $(LDLIBS)

# e2e helper (tests/e2e/copylab.sh); not named test_* so tests/run.sh skips it
$(O)/tests/recorder: tests/e2e/recorder.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

unit: $(UNIT_BIN) $(O)/tests/recorder

# make test: everything under ASan + UBSan in build/san.
test:
	$(MAKE) -j$$(nproc) O=build/san SAN=1 build/san/tcptwin unit
	TW_BUILD=build/san bash tests/run.sh

demo: all $(O)/tests/recorder
	bash tests/e2e/demo.sh $(O)/tcptwin

# libFuzzer targets: clang only; each links the library sources directly.
FUZZ_CFLAGS := -std=gnu17 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc $(PCAP_CFLAGS)
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(PCAP_LIBS) $(NETTLE_LIBS) $(XDP_LIBS)
fuzz-run: fuzz
	bash tests/fuzz/run.sh $(FUZZ_TIME)

bench: all $(O)/tests/recorder
	bash bench/capture.sh $(O)/tcptwin
	bash bench/copy.sh $(O)/tcptwin
	bash bench/blast.sh $(O)/tcptwin

hdrcheck:
	@for h in $(HDRS); do echo "#include \"$${h#src/}\"" | $(CC) $(CPPFLAGS) -std=gnu17 $(WARN) -x c -fsyntax-only - || exit 1; done; echo "headers ok"

format:
	clang-format -i $(LIB_SRC) src/main.c $(HDRS)

clean:
	rm -rf build
