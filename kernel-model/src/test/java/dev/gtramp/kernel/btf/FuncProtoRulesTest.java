package dev.gtramp.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteOrder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each rule of {@code btf_distill_func_proto()} ({@code kernel/bpf/btf.c}) and of the register
 * count in {@code __arch_prepare_bpf_trampoline()} ({@code arch/x86/net/bpf_jit_comp.c}) on hand-made
 * BTF, including the cases the 6.18 vmlinux does not exercise (floats, unions, arrays, a register
 * count above 12 with at most 12 params).
 */
class FuncProtoRulesTest {
    private BtfBlobBuilder b;
    private int intT;
    private int u64T;
    private int charT;
    private int doubleT;
    private int voidPtr;
    private int s16;
    private int s24;
    private int u16;
    private int empty;

    @BeforeEach
    void types() {
        b = new BtfBlobBuilder();
        intT = b.integer("int", 4, BtfType.INT_SIGNED);
        u64T = b.ref(BtfKind.TYPEDEF, "u64", b.integer("long long unsigned int", 8, 0));
        charT = b.integer("char", 1, BtfType.INT_CHAR);
        doubleT = b.floating("double", 8);
        voidPtr = b.ptr(0);
        s16 = b.composite(BtfKind.STRUCT, "s16", 16, false, "a", u64T, 0, "b", u64T, 64);
        s24 = b.composite(BtfKind.STRUCT, "s24", 24, false, "a", u64T, 0, "b", u64T, 64, "c", u64T, 128);
        u16 = b.composite(BtfKind.UNION, "u16", 16, false, "a", s16, 0, "b", u64T, 0);
        empty = b.composite(BtfKind.STRUCT, "empty", 0, false);
    }

    private FunctionPrototype fn(String name, int ret, Object... params) {
        int f = b.func(name, b.proto(ret, params), 1);
        Btf btf = BtfReader.read(b.build(ByteOrder.LITTLE_ENDIAN));
        assertEquals(f, btf.functionId(name).getAsInt());
        return btf.function(name).orElseThrow();
    }

    @Test
    void scalarsAndPointersTakeOneRegisterEach() {
        FunctionPrototype p = fn("f", intT, "a", charT, "b", u64T, "c", voidPtr);
        assertNull(p.unsupportedReason());
        assertEquals(3, p.argRegs());
        assertEquals(Linkage.GLOBAL, p.linkage());
        assertEquals("int f(char a, u64 b, void *c)", p.declaration());
    }

    @Test
    void aggregatesUpToSixteenBytesTakeTwoRegisters() {
        FunctionPrototype p = fn("f", 0, "s", s16, "u", u16, "x", intT);
        assertNull(p.unsupportedReason());
        assertEquals(5, p.argRegs());
        assertEquals(new Param("u", "union u16", 16, ArgClass.UNION), p.params().get(1));
        assertEquals("void f(struct s16 s, union u16 u, int x)", p.declaration());
    }

    @Test
    void aggregateOverSixteenBytesIsRejected() {
        FunctionPrototype p = fn("f", intT, "a", intT, "s", s24);
        assertEquals("The function f arg1 type STRUCT is unsupported.", p.unsupportedReason());
        assertEquals(1 + 3, p.argRegs());
    }

    @Test
    void floatArgumentIsRejectedAndCountsOne() {
        FunctionPrototype p = fn("f", intT, "d", doubleT, "a", intT);
        assertEquals("The function f arg0 type FLOAT is unsupported.", p.unsupportedReason());
        assertEquals(new Param("d", "double", 8, ArgClass.FLOAT), p.params().get(0));
        assertEquals(2, p.argRegs());
    }

    @Test
    void arrayArgumentIsRejected() {
        int arr = b.array(intT, intT, 4);
        FunctionPrototype p = fn("f", intT, "v", arr);
        assertEquals("The function f arg0 type ARRAY is unsupported.", p.unsupportedReason());
        assertEquals(new Param("v", "int[4]", 16, ArgClass.OTHER), p.params().get(0));
    }

    @Test
    void returnTypes() {
        assertNull(fn("v", 0).unsupportedReason());
        assertEquals(0, fn("v2", 0).argRegs());
        assertNull(fn("p", voidPtr).unsupportedReason());
        // Even a small aggregate return is refused: ret < 0 || btf_type_is_struct(t).
        assertEquals("The function rs return type STRUCT is unsupported.", fn("rs", s16).unsupportedReason());
        assertEquals("The function ru return type UNION is unsupported.", fn("ru", u16).unsupportedReason());
        assertEquals("The function rf return type FLOAT is unsupported.", fn("rf", doubleT).unsupportedReason());
    }

    @Test
    void variadicIsRejectedButAnEarlierBadArgumentIsReportedFirst() {
        FunctionPrototype p = fn("pr", intT, "fmt", voidPtr, "", 0);
        assertEquals("The function pr with variable args is unsupported.", p.unsupportedReason());
        assertEquals(1, p.argRegs());
        FunctionPrototype q = fn("pq", intT, "d", doubleT, "", 0);
        assertEquals("The function pq arg0 type FLOAT is unsupported.", q.unsupportedReason());
        // The return type is checked before any argument.
        FunctionPrototype r = fn("prs", s16, "", 0);
        assertEquals("The function prs return type STRUCT is unsupported.", r.unsupportedReason());
    }

    @Test
    void zeroSizedArgumentIsMalformedVoid() {
        FunctionPrototype p = fn("f", intT, "e", empty, "a", intT);
        assertEquals("The function f has malformed void argument.", p.unsupportedReason());
        FunctionPrototype u = fn("u", intT, "e", b.composite(BtfKind.UNION, "nothing", 0, false));
        assertEquals("The function u has malformed void argument.", u.unsupportedReason());
    }

    @Test
    void voidThroughAModifierIsNoAcceptedKind() {
        // __get_type_size() skips the const, finds void, which is no pointer, int, enum or struct.
        int constVoid = b.ref(BtfKind.CONST, "", 0);
        assertEquals("The function g arg0 type UNKNOWN is unsupported.",
                fn("g", intT, "v", constVoid).unsupportedReason());
        assertEquals("The function h return type UNKNOWN is unsupported.", fn("h", constVoid).unsupportedReason());
    }

    @Test
    void moreThanTwelveParamsIsRejectedBeforeAnythingElse() {
        Object[] params = new Object[2 * 13];
        for (int i = 0; i < 13; i++) {
            params[2 * i] = "a" + i;
            params[2 * i + 1] = i == 0 ? doubleT : intT;
        }
        FunctionPrototype p = fn("f", s16, params);
        assertEquals("The function f has 13 arguments. Too many.", p.unsupportedReason());
        assertEquals(13, p.argRegs());

        Object[] twelve = java.util.Arrays.copyOf(params, 24);
        twelve[1] = intT;
        FunctionPrototype q = fn("g", intT, twelve);
        assertNull(q.unsupportedReason());
        assertEquals(12, q.argRegs());
    }

    @Test
    void moreThanTwelveRegistersIsRejectedByTheJit() {
        // Seven 16-byte structs: nr_args 7, nr_regs 7 + 7 = 14 > MAX_BPF_FUNC_ARGS.
        Object[] params = new Object[2 * 7];
        for (int i = 0; i < 7; i++) {
            params[2 * i] = "s" + i;
            params[2 * i + 1] = s16;
        }
        FunctionPrototype p = fn("f", intT, params);
        assertEquals("The function f needs 14 argument registers. Too many.", p.unsupportedReason());
        assertEquals(14, p.argRegs());
        // Six of them fit exactly.
        FunctionPrototype q = fn("g", intT, java.util.Arrays.copyOf(params, 12));
        assertNull(q.unsupportedReason());
        assertEquals(12, q.argRegs());
    }

    @Test
    void typedefsAndQualifiersAreSeenThrough() {
        int constS16 = b.ref(BtfKind.CONST, "", b.ref(BtfKind.TYPEDEF, "s16_t", s16));
        int volatileInt = b.ref(BtfKind.VOLATILE, "", intT);
        FunctionPrototype p = fn("f", volatileInt, "s", constS16);
        assertNull(p.unsupportedReason());
        assertEquals(new Param("s", "const s16_t", 16, ArgClass.STRUCT), p.params().get(0));
        assertEquals(2, p.argRegs());
        assertEquals("volatile int", p.returnType());
        assertEquals(ArgClass.INT, p.returnClass());
    }
}
