package dev.gtramp.kernel;

/**
 * {@code bpf_prog_test_run_tracing} ({@code net/bpf/test_run.c}): what {@code BPF_PROG_TEST_RUN}
 * does for a tracing program. It calls the BPF test functions with fixed arguments and checks
 * their results, so that programs attached to them run with known inputs.
 */
public final class BpfTestRun {
    private BpfTestRun() {
    }

    /**
     * The {@code BPF_TRACE_FENTRY}/{@code BPF_TRACE_FEXIT} case: calls {@code bpf_fentry_test1..10}
     * and returns 0 if every one returned what its body computes, {@code -EFAULT} otherwise (the
     * kernel's {@code goto out} with {@code err = -EFAULT}).
     */
    public static int fentryFexit(Cpu cpu) {
        Kernel k = cpu.kernel();
        KernelMemory mem = k.memory();
        long arg = mem.alloc("struct bpf_fentry_test_t", 8);
        long retval = mem.alloc("u32", 4);
        try {
            boolean ok = (int) cpu.call(k.function("bpf_fentry_test1"), 1) == 2
                    && (int) cpu.call(k.function("bpf_fentry_test2"), 2, 3) == 5
                    && (int) cpu.call(k.function("bpf_fentry_test3"), 4, 5, 6) == 15
                    && (int) cpu.call(k.function("bpf_fentry_test4"), 7, 8, 9, 10) == 34
                    && (int) cpu.call(k.function("bpf_fentry_test5"), 11, 12, 13, 14, 15) == 65
                    && (int) cpu.call(k.function("bpf_fentry_test6"), 16, 17, 18, 19, 20, 21) == 111
                    && (int) cpu.call(k.function("bpf_fentry_test7"), 0) == 0
                    && (int) cpu.call(k.function("bpf_fentry_test8"), arg) == 0
                    && (int) cpu.call(k.function("bpf_fentry_test9"), retval) == 0
                    && (int) cpu.call(k.function("bpf_fentry_test10"), 0) == 0;
            return ok ? 0 : -Errno.EFAULT.code();
        } finally {
            mem.free(retval);
            mem.free(arg);
        }
    }

    /**
     * The {@code BPF_MODIFY_RETURN} case: calls {@code bpf_modify_return_test(1, &b)} and
     * {@code bpf_modify_return_test2(1, &b, 3, 4, 5, 6, 7)} with {@code b = 2}, counting a side
     * effect each time the body ran (it increments {@code *b}), and returns the test run's
     * {@code retval}: {@code (side_effect << 16) | ret}, with {@code ret} the u16 sum of the two
     * return values.
     */
    public static int modifyReturn(Cpu cpu) {
        Kernel k = cpu.kernel();
        KernelMemory mem = k.memory();
        long b = mem.alloc("int", 4);
        try {
            mem.store32(b, 2);
            int ret = (short) cpu.call(k.function("bpf_modify_return_test"), 1, b) & 0xffff;
            int sideEffect = mem.load32(b) != 2 ? 1 : 0;
            mem.store32(b, 2);
            ret = (ret + (int) cpu.callWith(k.function("bpf_modify_return_test2"), new long[] {1, b, 3, 4, 5, 6, 7})) & 0xffff;
            sideEffect += mem.load32(b) != 2 ? 1 : 0;
            return (sideEffect << 16) | ret;
        } finally {
            mem.free(b);
        }
    }
}
