package dev.gtramp.kernel.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** C spelling of BTF types, on hand-made BTF and on real vmlinux types named in the kernel source. */
class BtfTypeNameTest {

    @Test
    void declaratorsNestInsideOut() {
        BtfBlobBuilder b = new BtfBlobBuilder();
        int intT = b.integer("int", 4, BtfType.INT_SIGNED);
        int charT = b.integer("char", 1, BtfType.INT_CHAR);
        int constChar = b.ref(BtfKind.CONST, "", charT);
        int constCharPtr = b.ptr(constChar);
        int constPtrToConstChar = b.ref(BtfKind.CONST, "", constCharPtr);
        int argv = b.ptr(constPtrToConstChar);
        int charPtrPtr = b.ptr(b.ptr(charT));
        int arr = b.array(intT, intT, 4);
        int ptrToArr = b.ptr(arr);
        int arrOfPtr = b.array(b.ptr(intT), intT, 3);
        int foo = b.composite(BtfKind.STRUCT, "foo", 8, false, "x", intT, 0);
        int fn = b.proto(b.ptr(foo), "a", intT, "", 0);
        int fnPtr = b.ptr(fn);
        int cb = b.ptr(b.proto(0, "p", b.ptr(foo)));
        int anonEnum = b.raw(0, BtfBlobBuilder.info(BtfKind.ENUM, 1, false), 4, b.str("A"), 1);
        int fwdUnion = b.raw(b.str("u"), BtfBlobBuilder.info(BtfKind.FWD, 0, true), 0);
        int fwdStruct = b.raw(b.str("s"), BtfBlobBuilder.info(BtfKind.FWD, 0, false), 0);
        int restrictPtr = b.ref(BtfKind.RESTRICT, "", b.ptr(intT));
        int userPtr = b.ptr(b.ref(BtfKind.TYPE_TAG, "user", charT));
        int volatileLong = b.ref(BtfKind.VOLATILE, "", b.integer("long int", 8, BtfType.INT_SIGNED));
        int noArgs = b.proto(intT);
        int func = b.func("foo_make", fn, 0);
        Btf btf = BtfReader.read(b.build(ByteOrder.LITTLE_ENDIAN));

        assertEquals("void", btf.typeName(0));
        assertEquals("const char *", btf.typeName(constCharPtr));
        assertEquals("const char *const", btf.typeName(constPtrToConstChar));
        assertEquals("const char *const *", btf.typeName(argv));
        assertEquals("char **", btf.typeName(charPtrPtr));
        assertEquals("int[4]", btf.typeName(arr));
        assertEquals("int (*)[4]", btf.typeName(ptrToArr));
        assertEquals("int *[3]", btf.typeName(arrOfPtr));
        assertEquals("struct foo *(int, ...)", btf.typeName(fn));
        assertEquals("struct foo *(*)(int, ...)", btf.typeName(fnPtr));
        assertEquals("void (*)(struct foo *)", btf.typeName(cb));
        assertEquals("enum {...}", btf.typeName(anonEnum));
        assertEquals("union u", btf.typeName(fwdUnion));
        assertEquals("struct s", btf.typeName(fwdStruct));
        assertEquals("int *restrict", btf.typeName(restrictPtr));
        assertEquals("char *", btf.typeName(userPtr));
        assertEquals("volatile long int", btf.typeName(volatileLong));
        assertEquals("int (void)", btf.typeName(noArgs));
        assertEquals("struct foo *foo_make(int, ...)", btf.typeName(func));
        assertEquals(8, btf.sizeOf(fnPtr));
        assertEquals(16, btf.sizeOf(arr));
        assertEquals(24, btf.sizeOf(arrOfPtr));
        assertEquals(0, btf.sizeOf(fn));
        assertEquals(BtfKind.INT, btf.kind(btf.resolve(volatileLong)));
        assertEquals(charT, btf.resolve(constChar));
    }

    @Test
    void realKernelTypes() {
        Btf btf = RealBlob.btf();
        // include/linux/types.h: typedef void (*rcu_callback_t)(struct rcu_head *head);
        // with #define rcu_head callback_head, so BTF knows the struct as callback_head.
        int cb = btf.findType("rcu_callback_t", BtfKind.TYPEDEF).getAsInt();
        assertEquals("rcu_callback_t", btf.typeName(cb));
        assertEquals("void (*)(struct callback_head *)", btf.typeName(btf.resolve(cb)));
        assertEquals(8, btf.sizeOf(cb));
        // include/linux/types.h: typedef unsigned int __bitwise gfp_t;
        int gfp = btf.findType("gfp_t", BtfKind.TYPEDEF).getAsInt();
        assertEquals("gfp_t", btf.typeName(gfp));
        assertEquals("unsigned int", btf.typeName(btf.resolve(gfp)));
        assertEquals(4, btf.sizeOf(gfp));
        // kernel/cred.c: const struct cred *get_task_cred(struct task_struct *task)
        assertEquals("const struct cred *get_task_cred(struct task_struct *task)",
                btf.function("get_task_cred").orElseThrow().declaration());
        // lib/argv_split.c: char **argv_split(gfp_t gfp, const char *str, int *argcp); void argv_free(char **argv)
        assertEquals("char **argv_split(gfp_t gfp, const char *str, int *argcp)",
                btf.function("argv_split").orElseThrow().declaration());
        assertEquals("char **", btf.function("argv_free").orElseThrow().params().get(0).type());
        // mm/util.c: char *kstrdup(const char *s, gfp_t gfp)
        assertEquals("char *kstrdup(const char *s, gfp_t gfp)", btf.function("kstrdup").orElseThrow().declaration());
        // The FUNC itself renders as its declaration without names.
        int id = btf.functionId("tcp_sendmsg").getAsInt();
        assertEquals("int tcp_sendmsg(struct sock *, struct msghdr *, size_t)", btf.typeName(id));
    }
}
