package dev.gtramp.kernel.btf;

/**
 * Renders a BTF type as a C type name, by the inside-out declarator rule: each pointer, array or
 * function layer wraps the declarator built so far, and the base type goes in front.
 *
 * <p>Pointer to array or function gets parentheses ({@code int (*)[4]}, {@code void (*)(int)});
 * {@code const}/{@code volatile}/{@code restrict} go after the {@code *} they qualify
 * ({@code char *const}) and before anything else ({@code const char *}). Type tags are transparent.
 * The recursion is bounded so that a prototype nesting through itself cannot run away; chains of
 * pointers, modifiers and arrays are already known to be acyclic.
 */
final class CTypeRenderer {
    /** {@code MAX_RESOLVE_DEPTH} is 32 in the kernel; C declarators nest far less. */
    static final int MAX_DEPTH = 64;

    private CTypeRenderer() {
    }

    static String render(Btf btf, int id) {
        return declare(btf, id, "", 0);
    }

    private static String declare(Btf btf, int id, String decl, int depth) {
        if (depth > MAX_DEPTH) {
            throw new BtfFormatException(String.format(
                    "type [%d] (%s) at offset 0x%x nests more than %d levels deep",
                    id, btf.kind(id), btf.byteOffset(id), MAX_DEPTH));
        }
        if (id == 0) {
            return join("void", decl);
        }
        BtfKind kind = btf.kind(id);
        switch (kind) {
            case INT: case FLOAT: case TYPEDEF:
                return join(btf.name(id), decl);
            case STRUCT:
                return join(tagged("struct", btf.name(id)), decl);
            case UNION:
                return join(tagged("union", btf.name(id)), decl);
            case ENUM: case ENUM64:
                return join(tagged("enum", btf.name(id)), decl);
            case FWD:
                // kind_flag set: a forward-declared union.
                return join(tagged(btf.field(id, 1) < 0 ? "union" : "struct", btf.name(id)), decl);
            case PTR: {
                int target = btf.field(id, 2);
                BtfKind under = btf.kind(btf.skipQualifiers(target));
                String inner = "*" + decl;
                if (under == BtfKind.ARRAY || under == BtfKind.FUNC_PROTO) {
                    inner = "(" + inner + ")";
                }
                return declare(btf, target, inner, depth + 1);
            }
            case ARRAY:
                return declare(btf, btf.field(id, 3),
                        decl + "[" + Integer.toUnsignedString(btf.field(id, 5)) + "]", depth + 1);
            case FUNC_PROTO:
                return declare(btf, btf.field(id, 2), decl + "(" + params(btf, id, depth) + ")", depth + 1);
            case CONST: case VOLATILE: case RESTRICT: {
                String q = kind == BtfKind.CONST ? "const" : kind == BtfKind.VOLATILE ? "volatile" : "restrict";
                int target = btf.field(id, 2);
                if (btf.kind(btf.skipQualifiers(target)) == BtfKind.PTR) {
                    // Qualifies the pointer itself: goes after its '*'.
                    return declare(btf, target, decl.isEmpty() ? q : q + " " + decl, depth + 1);
                }
                return q + " " + declare(btf, target, decl, depth + 1);
            }
            case TYPE_TAG:
                return declare(btf, btf.field(id, 2), decl, depth + 1);
            case FUNC:
                return declare(btf, btf.field(id, 2), btf.name(id) + decl, depth + 1);
            case VAR:
                return declare(btf, btf.field(id, 2), btf.name(id) + decl, depth + 1);
            case DATASEC:
                return join("SEC(\"" + btf.name(id) + "\")", decl);
            case DECL_TAG:
                return join("__attribute__((btf_decl_tag(\"" + btf.name(id) + "\")))", decl);
            default:
                throw new IllegalStateException("kind " + kind + " of type [" + id + "]");
        }
    }

    private static String params(Btf btf, int protoId, int depth) {
        int n = btf.field(protoId, 1) & 0xffff;
        if (n == 0) {
            return "void";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            int type = btf.field(protoId, 3 + 2 * i + 1);
            sb.append(type == 0 && i == n - 1 ? "..." : declare(btf, type, "", depth + 1));
        }
        return sb.toString();
    }

    private static String tagged(String keyword, String name) {
        return keyword + " " + (name.isEmpty() ? "{...}" : name);
    }

    private static String join(String base, String decl) {
        if (decl.isEmpty()) {
            return base;
        }
        return decl.charAt(0) == '[' ? base + decl : base + " " + decl;
    }
}
