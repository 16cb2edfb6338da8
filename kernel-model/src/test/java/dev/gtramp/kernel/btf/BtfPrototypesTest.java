package dev.gtramp.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Prototypes of named vmlinux functions against their C declarations in the 6.18 source, and the
 * trampoline verdicts against {@code btf_distill_func_proto()} ({@code kernel/bpf/btf.c}) and
 * {@code __arch_prepare_bpf_trampoline()} ({@code arch/x86/net/bpf_jit_comp.c}).
 *
 * <p>BTF spells base types as DWARF does: the source's {@code short} is {@code short int} and
 * {@code unsigned long} is {@code long unsigned int}; typedefs keep their declared names.
 */
class BtfPrototypesTest {

    private static FunctionPrototype fn(String name) {
        return RealBlob.btf().function(name).orElseThrow(() -> new AssertionError("no FUNC " + name));
    }

    private static void assertSupported(FunctionPrototype p, int argRegs) {
        assertNull(p.unsupportedReason(), p.name());
        assertTrue(p.isBpfSupported());
        assertEquals(argRegs, p.argRegs(), p.name());
    }

    @Test
    void bpfFentryTestFunctions() {
        // net/bpf/test_run.c
        FunctionPrototype t1 = fn("bpf_fentry_test1");
        assertEquals("int bpf_fentry_test1(int a)", t1.declaration());
        assertEquals(List.of(new Param("a", "int", 4, ArgClass.INT)), t1.params());
        assertEquals("int", t1.returnType());
        assertEquals(4, t1.returnSize());
        assertEquals(ArgClass.INT, t1.returnClass());
        assertSupported(t1, 1);

        assertEquals("int bpf_fentry_test2(int a, u64 b)", fn("bpf_fentry_test2").declaration());
        assertSupported(fn("bpf_fentry_test2"), 2);
        assertEquals(new Param("b", "u64", 8, ArgClass.INT), fn("bpf_fentry_test2").params().get(1));

        assertEquals("int bpf_fentry_test3(char a, int b, u64 c)", fn("bpf_fentry_test3").declaration());
        assertEquals(new Param("a", "char", 1, ArgClass.INT), fn("bpf_fentry_test3").params().get(0));
        assertSupported(fn("bpf_fentry_test3"), 3);

        assertEquals("int bpf_fentry_test4(void *a, char b, int c, u64 d)", fn("bpf_fentry_test4").declaration());
        assertEquals(new Param("a", "void *", 8, ArgClass.PTR), fn("bpf_fentry_test4").params().get(0));
        assertSupported(fn("bpf_fentry_test4"), 4);

        // int bpf_fentry_test5(u64 a, void *b, short c, int d, u64 e)
        assertEquals("int bpf_fentry_test5(u64 a, void *b, short int c, int d, u64 e)",
                fn("bpf_fentry_test5").declaration());
        assertEquals(new Param("c", "short int", 2, ArgClass.INT), fn("bpf_fentry_test5").params().get(2));
        assertSupported(fn("bpf_fentry_test5"), 5);

        // int bpf_fentry_test6(u64 a, void *b, short c, int d, void *e, u64 f): exactly the six registers.
        FunctionPrototype t6 = fn("bpf_fentry_test6");
        assertEquals("int bpf_fentry_test6(u64 a, void *b, short int c, int d, void *e, u64 f)", t6.declaration());
        assertSupported(t6, 6);
        assertFalse(t6.hasStackArgs());

        assertEquals("int bpf_fentry_test7(struct bpf_fentry_test_t *arg)", fn("bpf_fentry_test7").declaration());
        assertEquals(new Param("arg", "struct bpf_fentry_test_t *", 8, ArgClass.PTR),
                fn("bpf_fentry_test7").params().get(0));
        assertSupported(fn("bpf_fentry_test7"), 1);
        assertEquals("int bpf_fentry_test8(struct bpf_fentry_test_t *arg)", fn("bpf_fentry_test8").declaration());
        assertEquals("u32 bpf_fentry_test9(u32 *a)", fn("bpf_fentry_test9").declaration());
        assertEquals("int bpf_fentry_test10(const void *a)", fn("bpf_fentry_test10").declaration());
        assertSupported(fn("bpf_fentry_test10"), 1);
        assertEquals("void bpf_fentry_test_sinfo(struct skb_shared_info *sinfo)",
                fn("bpf_fentry_test_sinfo").declaration());
        assertEquals(ArgClass.VOID, fn("bpf_fentry_test_sinfo").returnClass());
        assertEquals(0, fn("bpf_fentry_test_sinfo").returnSize());
    }

    @Test
    void modifyReturnTestsIncludingStackArguments() {
        // __bpf_kfunc int bpf_modify_return_test(int a, int *b)
        FunctionPrototype m1 = fn("bpf_modify_return_test");
        assertEquals("int bpf_modify_return_test(int a, int *b)", m1.declaration());
        assertSupported(m1, 2);

        // __bpf_kfunc int bpf_modify_return_test2(int a, int *b, short c, int d, void *e, char f, int g):
        // seven scalars, so the seventh goes on the stack.
        FunctionPrototype m2 = fn("bpf_modify_return_test2");
        assertEquals("int bpf_modify_return_test2(int a, int *b, short int c, int d, void *e, char f, int g)",
                m2.declaration());
        assertEquals(7, m2.paramCount());
        assertSupported(m2, 7);
        assertTrue(m2.hasStackArgs());
        assertEquals(7, m2.argSlots());
        assertEquals(List.of(ArgClass.INT, ArgClass.PTR, ArgClass.INT, ArgClass.INT, ArgClass.PTR, ArgClass.INT,
                ArgClass.INT), m2.params().stream().map(Param::argClass).collect(Collectors.toList()));
    }

    @Test
    void variadicFunctionsAreRejected() {
        // include/linux/printk.h: asmlinkage __visible int _printk(const char *fmt, ...);
        FunctionPrototype p = fn("_printk");
        assertEquals("int _printk(const char *fmt, ...)", p.declaration());
        assertTrue(p.isVariadic());
        assertEquals(2, p.paramCount());
        assertEquals(new Param("", "...", 0, ArgClass.VARARGS), p.params().get(1));
        assertEquals("The function _printk with variable args is unsupported.", p.unsupportedReason());
        assertFalse(p.isBpfSupported());
        assertEquals(1, p.argRegs());

        // lib/vsprintf.c: int snprintf(char *buf, size_t size, const char *fmt, ...)
        FunctionPrototype s = fn("snprintf");
        assertEquals("int snprintf(char *buf, size_t size, const char *fmt, ...)", s.declaration());
        assertEquals("The function snprintf with variable args is unsupported.", s.unsupportedReason());
        assertEquals(3, s.argRegs());
    }

    @Test
    void networkingFunctions() {
        // net/ipv4/tcp.c: int tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
        FunctionPrototype p = fn("tcp_sendmsg");
        assertEquals("int tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)", p.declaration());
        assertEquals(new Param("size", "size_t", 8, ArgClass.INT), p.params().get(2));
        assertSupported(p, 3);
        // net/core/skbuff.c: void sk_skb_reason_drop(struct sock *sk, struct sk_buff *skb, enum skb_drop_reason reason)
        FunctionPrototype d = fn("sk_skb_reason_drop");
        assertEquals("void sk_skb_reason_drop(struct sock *sk, struct sk_buff *skb, enum skb_drop_reason reason)",
                d.declaration());
        assertEquals(new Param("reason", "enum skb_drop_reason", 4, ArgClass.ENUM), d.params().get(2));
        assertSupported(d, 3);
    }

    @Test
    void structsByValue() {
        // kernel/auditsc.c: void __audit_tk_injoffset(struct timespec64 offset); 16 bytes: two registers.
        FunctionPrototype a = fn("__audit_tk_injoffset");
        assertEquals("void __audit_tk_injoffset(struct timespec64 offset)", a.declaration());
        assertEquals(new Param("offset", "struct timespec64", 16, ArgClass.STRUCT), a.params().get(0));
        assertSupported(a, 2);

        // kernel/bpf/syscall.c: static int __sys_bpf(enum bpf_cmd cmd, bpfptr_t uattr, unsigned int size);
        // bpfptr_t is the 16-byte sockptr_t: 1 + 2 + 1 registers.
        FunctionPrototype b = fn("__sys_bpf");
        assertEquals("int __sys_bpf(enum bpf_cmd cmd, bpfptr_t uattr, unsigned int size)", b.declaration());
        assertEquals(new Param("uattr", "bpfptr_t", 16, ArgClass.STRUCT), b.params().get(1));
        assertSupported(b, 4);
        assertEquals(4, b.argSlots());

        // drivers/rtc/lib.c: ktime_t rtc_tm_to_ktime(struct rtc_time tm); nine ints, 36 bytes > 16.
        FunctionPrototype r = fn("rtc_tm_to_ktime");
        assertEquals("ktime_t rtc_tm_to_ktime(struct rtc_time tm)", r.declaration());
        assertEquals("The function rtc_tm_to_ktime arg0 type STRUCT is unsupported.", r.unsupportedReason());
        assertEquals((36 + 7) / 8, r.argRegs());
        assertEquals(8, r.returnSize());
    }

    @Test
    void aggregateReturnValuesAreRejected() {
        // kernel/time/time.c: struct timespec64 ns_to_timespec64(s64 nsec)
        FunctionPrototype n = fn("ns_to_timespec64");
        assertEquals("struct timespec64 ns_to_timespec64(s64 nsec)", n.declaration());
        assertEquals(ArgClass.STRUCT, n.returnClass());
        assertEquals(16, n.returnSize());
        assertEquals("The function ns_to_timespec64 return type STRUCT is unsupported.", n.unsupportedReason());
        assertEquals(1, n.argRegs());
    }

    @Test
    void emptyStructArgumentIsAMalformedVoidArgument() {
        // io_uring/io_uring.c: static int __io_run_local_work(struct io_ring_ctx *ctx, io_tw_token_t tw,
        // int min_events, int max_events); include/linux/io_uring_types.h: struct io_tw_state {};
        // typedef struct io_tw_state io_tw_token_t; __get_type_size() gives 0 for it.
        FunctionPrototype p = fn("__io_run_local_work");
        assertEquals("int __io_run_local_work(struct io_ring_ctx *ctx, io_tw_token_t tw, int min_events, int max_events)",
                p.declaration());
        assertEquals(new Param("tw", "io_tw_token_t", 0, ArgClass.STRUCT), p.params().get(1));
        assertEquals("The function __io_run_local_work has malformed void argument.", p.unsupportedReason());
        // An empty struct takes no register.
        assertEquals(3, p.argRegs());
    }

    @Test
    void functionsWithMoreThanTwelveParams() {
        List<FunctionPrototype> many = RealBlob.btf().functions().stream().filter(p -> p.paramCount() > 12).toList();
        assertEquals(18, many.size());
        for (FunctionPrototype p : many) {
            assertEquals("The function " + p.name() + " has " + p.paramCount() + " arguments. Too many.",
                    p.unsupportedReason());
            assertTrue(p.argRegs() >= 13, p.toString());
        }
        // kernel/trace/bpf_trace.c: void bpf_trace_run12(struct bpf_raw_tp_link *link, u64 arg0, ..., u64 arg11)
        FunctionPrototype r12 = fn("bpf_trace_run12");
        assertEquals(13, r12.paramCount());
        assertEquals("The function bpf_trace_run12 has 13 arguments. Too many.", r12.unsupportedReason());
        assertEquals(13, r12.argRegs());
        assertTrue(fn("bpf_trace_run11").isBpfSupported());
        assertEquals(12, fn("bpf_trace_run11").argRegs());
    }

    @Test
    void everySupportedFunctionFitsTheTrampoline() {
        Btf btf = RealBlob.btf();
        for (FunctionPrototype p : btf.functions()) {
            assertEquals(Linkage.of(btf.type(btf.functionId(p.name()).getAsInt()).vlen()), p.linkage(), p.name());
            if (p.isBpfSupported()) {
                assertTrue(p.paramCount() <= FunctionPrototype.MAX_BPF_FUNC_ARGS, p.toString());
                assertTrue(p.argRegs() <= FunctionPrototype.MAX_BPF_FUNC_ARGS, p.toString());
                assertEquals(p.argSlots(), p.argRegs(), p.toString());
                for (Param a : p.params()) {
                    assertTrue(a.size() >= 1 && a.size() <= 16, p + ": " + a);
                    assertTrue(a.argClass() != ArgClass.FLOAT && a.argClass() != ArgClass.VARARGS, p.toString());
                }
                assertTrue(p.returnClass() != ArgClass.STRUCT && p.returnClass() != ArgClass.UNION, p.toString());
            } else {
                assertTrue(p.unsupportedReason().startsWith("The function " + p.name() + " "), p.unsupportedReason());
            }
        }
    }
}
