package dev.gtramp.kernel;

import java.util.Map;

/**
 * The real bodies of the kernel's BPF test functions ({@code net/bpf/test_run.c}), which the
 * selftests attach fentry, fexit and fmod_ret programs to and which
 * {@code bpf_prog_test_run_tracing} calls ({@link BpfTestRun}).
 *
 * <p>Each body applies C's conversions: an {@code int}/{@code short}/{@code char} parameter is the
 * low bits of its register, sign-extended ({@code char} is signed on x86-64), a pointer is the
 * whole register, and an {@code int} return truncates to 32 bits and is sign-extended into the
 * 64-bit return value (what a caller that reads {@code %rax} as a {@code long} of the C type sees;
 * {@code u32} is zero-extended). Pointers are addresses in
 * {@link KernelMemory}.
 */
public final class BpfTestFunctions {
    private BpfTestFunctions() {
    }

    /** The bodies by function name, each a transcription of the C source. */
    private static final Map<String, FunctionBody> BODIES = Map.ofEntries(
            // int bpf_fentry_test1(int a) { return a + 1; }
            Map.entry("bpf_fentry_test1", f -> (int) (i32(f, 0) + 1)),
            // int bpf_fentry_test2(int a, u64 b) { return a + b; }
            Map.entry("bpf_fentry_test2", f -> (int) (i32(f, 0) + f.arg(1))),
            // int bpf_fentry_test3(char a, int b, u64 c) { return a + b + c; }
            Map.entry("bpf_fentry_test3", f -> (int) (i8(f, 0) + i32(f, 1) + f.arg(2))),
            // int bpf_fentry_test4(void *a, char b, int c, u64 d) { return (long)a + b + c + d; }
            Map.entry("bpf_fentry_test4", f -> (int) (f.arg(0) + i8(f, 1) + i32(f, 2) + f.arg(3))),
            // int bpf_fentry_test5(u64 a, void *b, short c, int d, u64 e) { return a + (long)b + c + d + e; }
            Map.entry("bpf_fentry_test5", f -> (int) (f.arg(0) + f.arg(1) + i16(f, 2) + i32(f, 3) + f.arg(4))),
            // int bpf_fentry_test6(u64 a, void *b, short c, int d, void *e, u64 f)
            //   { return a + (long)b + c + d + (long)e + f; }
            Map.entry("bpf_fentry_test6",
                    f -> (int) (f.arg(0) + f.arg(1) + i16(f, 2) + i32(f, 3) + f.arg(4) + f.arg(5))),
            // int bpf_fentry_test7(struct bpf_fentry_test_t *arg) { return (long)arg; }
            Map.entry("bpf_fentry_test7", f -> (int) f.arg(0)),
            // int bpf_fentry_test8(struct bpf_fentry_test_t *arg) { return (long)arg->a; }
            Map.entry("bpf_fentry_test8", f -> (int) f.cpu().kernel().memory().load64(f.arg(0))),
            // u32 bpf_fentry_test9(u32 *a) { return *a; }
            Map.entry("bpf_fentry_test9", f -> Integer.toUnsignedLong(f.cpu().kernel().memory().load32(f.arg(0)))),
            // int bpf_fentry_test10(const void *a) { return (long)a; }
            Map.entry("bpf_fentry_test10", f -> (int) f.arg(0)),
            // void bpf_fentry_test_sinfo(struct skb_shared_info *sinfo) { }
            Map.entry("bpf_fentry_test_sinfo", f -> 0),
            // int bpf_fentry_shadow_test(int a) { return a + 1; }
            Map.entry("bpf_fentry_shadow_test", f -> (int) (i32(f, 0) + 1)),
            // int bpf_modify_return_test(int a, int *b) { *b += 1; return a + *b; }
            Map.entry("bpf_modify_return_test", f -> {
                KernelMemory m = f.cpu().kernel().memory();
                long b = f.arg(1);
                m.store32(b, m.load32(b) + 1);
                return (int) (i32(f, 0) + m.load32(b));
            }),
            // int bpf_modify_return_test2(int a, int *b, short c, int d, void *e, char f, int g)
            //   { *b += 1; return a + *b + c + d + (long)e + f + g; }
            Map.entry("bpf_modify_return_test2", f -> {
                KernelMemory m = f.cpu().kernel().memory();
                long b = f.arg(1);
                m.store32(b, m.load32(b) + 1);
                return (int) (i32(f, 0) + m.load32(b) + i16(f, 2) + i32(f, 3) + f.arg(4) + i8(f, 5) + i32(f, 6));
            }),
            // int bpf_modify_return_test_tp(int nonce) { trace_bpf_trigger_tp(nonce); return nonce; }
            Map.entry("bpf_modify_return_test_tp", f -> i32(f, 0)));

    /** Gives every test function the image has its real body. */
    static void install(Kernel kernel) {
        for (Map.Entry<String, FunctionBody> e : BODIES.entrySet()) {
            kernel.find(e.getKey()).ifPresent(fn -> fn.setBody(e.getValue()));
        }
    }

    private static long i32(Frame f, int n) {
        return (int) f.arg(n);
    }

    private static long i16(Frame f, int n) {
        return (short) f.arg(n);
    }

    private static long i8(Frame f, int n) {
        return (byte) f.arg(n);
    }
}
