/*
 * BindGen: projntk's own small FFM binding generator, used when jextract is not installed.
 * It reads C headers through libclang (called through FFM, nothing else needed) and writes the
 * same shape jextract does: one class per header with layout constants, one static method per
 * function (lazily bound downcall handle), one static method per enum constant, and one class per
 * function-pointer typedef. See docs/bindings.md.
 *
 * Usage (run from the repository root):
 *   java --enable-native-access=ALL-UNNAMED scripts/bindgen/BindGen.java \
 *     --out DIR [--package org.projntk.bindings] [--libclang PATH] [-I DIR]... [-D NAME[=V]]... \
 *     --header FILE --class NAME [--include-function N]... [--include-constant N]... [--include-typedef N]... \
 *     [--header FILE --class NAME ...]...
 * Options before the first --header apply to every header. Without --include-* options every
 * declaration from the header file itself (not from the headers it includes) is emitted.
 */

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

public final class BindGen {

    /** Thrown for anything wrong with the input; main() prints the message and exits 2. */
    static final class BindGenException extends RuntimeException {
        BindGenException(String message) { super(message); }
    }

    // ------------------------------------------------------------------ command line

    static final class Job {
        Path header;
        String className;
        final Set<String> includeFunctions = new LinkedHashSet<>();
        final Set<String> includeConstants = new LinkedHashSet<>();
        final Set<String> includeTypedefs = new LinkedHashSet<>();

        boolean filtered() {
            return !includeFunctions.isEmpty() || !includeConstants.isEmpty() || !includeTypedefs.isEmpty();
        }
    }

    /** Debian's newest /usr/lib/llvm-N/lib/libclang.so.1 (libclang-dev), as scripts/find-libclang.sh picks it. */
    static String newestDebianLibclang() {
        try (var dirs = Files.list(Path.of("/usr/lib"))) {
            return dirs.map(d -> d.getFileName().toString()).filter(n -> n.matches("llvm-\\d+"))
                    .max(Comparator.comparingInt(n -> Integer.parseInt(n.substring(5))))
                    .map(n -> "/usr/lib/" + n + "/lib/libclang.so.1").orElse("/usr/lib/llvm/lib/libclang.so.1");
        } catch (IOException e) {
            return "/usr/lib/llvm/lib/libclang.so.1";
        }
    }

    /**
     * libclang finds stddef.h and the other compiler headers in lib/clang/VERSION/include beside itself; Debian ships
     * them in libclang-common-N-dev, which the runtime package libclang1-N does not pull in.
     */
    static boolean hasBuiltinHeaders(Path libclang) {
        Path resourceRoot = libclang.toAbsolutePath().getParent().resolve("clang");
        try (var versions = Files.list(resourceRoot)) {
            return versions.anyMatch(v -> Files.isRegularFile(v.resolve("include/stddef.h")));
        } catch (IOException e) {
            return false;
        }
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (BindGenException | IOException e) {
            System.err.println("bindgen: " + e.getMessage());
            System.exit(2);
        }
    }

    static void run(String[] args) throws IOException {
        Path out = null;
        String pkg = "org.projntk.bindings";
        String libclang = System.getenv().getOrDefault("LIBCLANG", newestDebianLibclang());
        String symbolsFrom = null;
        List<String> clangArgs = new ArrayList<>();
        List<Job> jobs = new ArrayList<>();
        Job job = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: BindGen --out DIR [--package P] [--libclang SO] [--symbols-from CLASS] [-I DIR] [-D N[=V]] "
                        + "--header FILE --class NAME [--include-function|--include-constant|--include-typedef NAME]... ...");
                return;
            }
            if (i + 1 >= args.length) throw new BindGenException("option " + a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--out" -> out = Path.of(v);
                case "--package" -> pkg = v;
                case "--libclang" -> libclang = v;
                case "--symbols-from" -> symbolsFrom = v;
                case "-I" -> { clangArgs.add("-I"); clangArgs.add(v); }
                case "-D" -> clangArgs.add("-D" + v);
                case "--header" -> { job = new Job(); job.header = Path.of(v); jobs.add(job); }
                case "--class", "--include-function", "--include-constant", "--include-typedef" -> {
                    if (job == null) throw new BindGenException(a + " must follow a --header");
                    switch (a) {
                        case "--class" -> job.className = v;
                        case "--include-function" -> job.includeFunctions.add(v);
                        case "--include-constant" -> job.includeConstants.add(v);
                        default -> job.includeTypedefs.add(v);
                    }
                }
                default -> throw new BindGenException("unknown option " + a);
            }
        }
        if (out == null) throw new BindGenException("missing --out DIR");
        if (jobs.isEmpty()) throw new BindGenException("no --header given");
        for (Job j : jobs) {
            if (j.className == null) throw new BindGenException("--header " + j.header + " has no --class");
            if (!isJavaIdentifier(j.className)) throw new BindGenException("bad class name: " + j.className);
            if (!Files.isRegularFile(j.header)) throw new BindGenException("header not found: " + j.header);
        }
        if (!Files.isRegularFile(Path.of(libclang))) {
            throw new BindGenException("libclang not found at " + libclang
                    + " (install libclang-dev: make bindings-deps, or set LIBCLANG / --libclang)");
        }
        if (!hasBuiltinHeaders(Path.of(libclang))) {
            throw new BindGenException("libclang at " + libclang + " has no built-in headers (clang/*/include/stddef.h"
                    + " beside it): install libclang-dev (make bindings-deps)");
        }
        Path pkgDir = out.resolve(pkg.replace('.', '/'));
        Files.createDirectories(pkgDir);
        try (Clang clang = new Clang(Path.of(libclang))) {
            for (Job j : jobs) {
                Header h = clang.parse(j.header, clangArgs);
                applyFilter(h, j);
                String source = displayName(j.header);
                Emitter emitter = new Emitter(pkg, j.className, source, symbolsFrom);
                write(pkgDir.resolve(j.className + ".java"), emitter.headerClass(h));
                for (FnTypedef t : h.typedefs) {
                    if (t.name.equals(j.className)) throw new BindGenException("typedef " + t.name + " clashes with the header class");
                    write(pkgDir.resolve(t.name + ".java"), emitter.typedefClass(t));
                }
            }
        }
    }

    /** Repository-relative for files under the working directory, absolute otherwise (system headers). */
    static String displayName(Path header) {
        Path abs = header.toAbsolutePath().normalize();
        Path cwd = Path.of("").toAbsolutePath().normalize();
        return (abs.startsWith(cwd) ? cwd.relativize(abs) : abs).toString().replace('\\', '/');
    }

    static void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    static void applyFilter(Header h, Job j) {
        if (!j.filtered()) {
            if (!h.unsupported.isEmpty()) {
                throw new BindGenException(j.header + ": cannot bind (exclude with --include-* filters):\n  "
                        + String.join("\n  ", h.unsupported.values()));
            }
            return;
        }
        List<String> bad = new ArrayList<>();
        for (Set<String> names : List.of(j.includeFunctions, j.includeConstants, j.includeTypedefs)) {
            for (String n : names) if (h.unsupported.containsKey(n)) bad.add(h.unsupported.get(n));
        }
        if (!bad.isEmpty()) throw new BindGenException(j.header + ": cannot bind:\n  " + String.join("\n  ", bad));
        h.functions.removeIf(f -> !j.includeFunctions.contains(f.name));
        h.constants.removeIf(c -> !j.includeConstants.contains(c.name));
        h.typedefs.removeIf(t -> !j.includeTypedefs.contains(t.name));
        h.order.removeIf(d -> !(h.functions.contains(d) || h.constants.contains(d)));
        List<String> missing = new ArrayList<>();
        for (String n : j.includeFunctions) if (h.functions.stream().noneMatch(f -> f.name.equals(n))) missing.add("function " + n);
        for (String n : j.includeConstants) if (h.constants.stream().noneMatch(c -> c.name.equals(n))) missing.add("constant " + n);
        for (String n : j.includeTypedefs) if (h.typedefs.stream().noneMatch(t -> t.name.equals(n))) missing.add("typedef " + n);
        if (!missing.isEmpty()) {
            throw new BindGenException(j.header + ": included but not declared there: " + String.join(", ", missing));
        }
    }

    // ------------------------------------------------------------------ model

    /** A C type as Java sees it: the Java carrier type and the name of the layout constant (null for void). */
    record JType(String java, String layout) {
        static final JType VOID = new JType("void", null);
        boolean isVoid() { return layout == null; }
    }

    record Param(String name, JType type, String cSpelling) {}

    sealed interface Decl permits Function, EnumConstant {}

    record Function(String name, JType result, String cResult, List<Param> params) implements Decl {}

    record EnumConstant(String name, JType type, long value, String enumName) implements Decl {}

    record FnTypedef(String name, JType result, String cResult, List<Param> params) {}

    static final class Header {
        final List<Function> functions = new ArrayList<>();
        final List<EnumConstant> constants = new ArrayList<>();
        final List<FnTypedef> typedefs = new ArrayList<>();
        final List<Decl> order = new ArrayList<>(); // functions and constants in declaration order
        /** Declarations that cannot be bound, by name, with the reason; fatal only if not filtered out. */
        final Map<String, String> unsupported = new LinkedHashMap<>();
    }

    // ------------------------------------------------------------------ libclang through FFM

    static final class Clang implements AutoCloseable {
        // CXCursor_* and CXType_* values from clang-c/Index.h (stable ABI).
        static final int CURSOR_ENUM_DECL = 5, CURSOR_ENUM_CONSTANT = 7, CURSOR_FUNCTION = 8,
                CURSOR_PARM = 10, CURSOR_TYPEDEF = 20, CURSOR_LINKAGE_SPEC = 23;
        static final int T_VOID = 2, T_BOOL = 3, T_CHAR_U = 4, T_UCHAR = 5, T_USHORT = 8, T_UINT = 9,
                T_ULONG = 10, T_ULONGLONG = 11, T_CHAR_S = 13, T_SCHAR = 14, T_SHORT = 16, T_INT = 17,
                T_LONG = 18, T_LONGLONG = 19, T_FLOAT = 21, T_DOUBLE = 22, T_POINTER = 101, T_RECORD = 105,
                T_ENUM = 106, T_FUNCTION_NOPROTO = 110, T_FUNCTION_PROTO = 111, T_CONSTANT_ARRAY = 112,
                T_INCOMPLETE_ARRAY = 114;
        static final int DIAG_ERROR = 3;
        static final int CHILD_VISIT_CONTINUE = 1;

        static final StructLayout CXCURSOR = MemoryLayout.structLayout(JAVA_INT.withName("kind"),
                JAVA_INT.withName("xdata"), MemoryLayout.sequenceLayout(3, ADDRESS).withName("data"));
        static final StructLayout CXTYPE = MemoryLayout.structLayout(JAVA_INT.withName("kind"),
                MemoryLayout.paddingLayout(4), MemoryLayout.sequenceLayout(2, ADDRESS).withName("data"));
        static final StructLayout CXSTRING = MemoryLayout.structLayout(ADDRESS.withName("data"),
                JAVA_INT.withName("private_flags"), MemoryLayout.paddingLayout(4));
        static final StructLayout CXSOURCELOCATION = MemoryLayout.structLayout(
                MemoryLayout.sequenceLayout(2, ADDRESS).withName("ptr_data"), JAVA_INT.withName("int_data"),
                MemoryLayout.paddingLayout(4));

        private final Arena arena = Arena.ofConfined();
        private final Linker linker = Linker.nativeLinker();
        private final SymbolLookup lib;
        private final MethodHandle createIndex, disposeIndex, parseTranslationUnit, disposeTranslationUnit,
                getNumDiagnostics, getDiagnostic, getDiagnosticSeverity, formatDiagnostic, disposeDiagnostic,
                getTranslationUnitCursor, visitChildren, getCursorKind, getCursorSpelling, getCString, disposeString,
                getCursorType, getCursorResultType, getNumArguments, getArgument, getCanonicalType, getPointeeType,
                getEnumConstantDeclValue, getEnumDeclIntegerType, getTypeDeclaration, getCursorLocation,
                locationIsFromMainFile, getTypedefDeclUnderlyingType, getResultType, getNumArgTypes, getArgType,
                isFunctionTypeVariadic, getTypeSpelling;
        private final MemorySegment index;

        // Children collected by the one visitor upcall; copied out because clang's cursors die with the call.
        private List<MemorySegment> collected;
        private final MemorySegment visitor;

        Clang(Path libclang) {
            lib = SymbolLookup.libraryLookup(libclang, arena);
            createIndex = fn("clang_createIndex", FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT));
            disposeIndex = fn("clang_disposeIndex", FunctionDescriptor.ofVoid(ADDRESS));
            parseTranslationUnit = fn("clang_parseTranslationUnit",
                    FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
            disposeTranslationUnit = fn("clang_disposeTranslationUnit", FunctionDescriptor.ofVoid(ADDRESS));
            getNumDiagnostics = fn("clang_getNumDiagnostics", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            getDiagnostic = fn("clang_getDiagnostic", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            getDiagnosticSeverity = fn("clang_getDiagnosticSeverity", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            formatDiagnostic = fn("clang_formatDiagnostic", FunctionDescriptor.of(CXSTRING, ADDRESS, JAVA_INT));
            disposeDiagnostic = fn("clang_disposeDiagnostic", FunctionDescriptor.ofVoid(ADDRESS));
            getTranslationUnitCursor = fn("clang_getTranslationUnitCursor", FunctionDescriptor.of(CXCURSOR, ADDRESS));
            visitChildren = fn("clang_visitChildren", FunctionDescriptor.of(JAVA_INT, CXCURSOR, ADDRESS, ADDRESS));
            getCursorKind = fn("clang_getCursorKind", FunctionDescriptor.of(JAVA_INT, CXCURSOR));
            getCursorSpelling = fn("clang_getCursorSpelling", FunctionDescriptor.of(CXSTRING, CXCURSOR));
            getCString = fn("clang_getCString", FunctionDescriptor.of(ADDRESS, CXSTRING));
            disposeString = fn("clang_disposeString", FunctionDescriptor.ofVoid(CXSTRING));
            getCursorType = fn("clang_getCursorType", FunctionDescriptor.of(CXTYPE, CXCURSOR));
            getCursorResultType = fn("clang_getCursorResultType", FunctionDescriptor.of(CXTYPE, CXCURSOR));
            getNumArguments = fn("clang_Cursor_getNumArguments", FunctionDescriptor.of(JAVA_INT, CXCURSOR));
            getArgument = fn("clang_Cursor_getArgument", FunctionDescriptor.of(CXCURSOR, CXCURSOR, JAVA_INT));
            getCanonicalType = fn("clang_getCanonicalType", FunctionDescriptor.of(CXTYPE, CXTYPE));
            getPointeeType = fn("clang_getPointeeType", FunctionDescriptor.of(CXTYPE, CXTYPE));
            getEnumConstantDeclValue = fn("clang_getEnumConstantDeclValue", FunctionDescriptor.of(JAVA_LONG, CXCURSOR));
            getEnumDeclIntegerType = fn("clang_getEnumDeclIntegerType", FunctionDescriptor.of(CXTYPE, CXCURSOR));
            getTypeDeclaration = fn("clang_getTypeDeclaration", FunctionDescriptor.of(CXCURSOR, CXTYPE));
            getCursorLocation = fn("clang_getCursorLocation", FunctionDescriptor.of(CXSOURCELOCATION, CXCURSOR));
            locationIsFromMainFile = fn("clang_Location_isFromMainFile", FunctionDescriptor.of(JAVA_INT, CXSOURCELOCATION));
            getTypedefDeclUnderlyingType = fn("clang_getTypedefDeclUnderlyingType", FunctionDescriptor.of(CXTYPE, CXCURSOR));
            getResultType = fn("clang_getResultType", FunctionDescriptor.of(CXTYPE, CXTYPE));
            getNumArgTypes = fn("clang_getNumArgTypes", FunctionDescriptor.of(JAVA_INT, CXTYPE));
            getArgType = fn("clang_getArgType", FunctionDescriptor.of(CXTYPE, CXTYPE, JAVA_INT));
            isFunctionTypeVariadic = fn("clang_isFunctionTypeVariadic", FunctionDescriptor.of(JAVA_INT, CXTYPE));
            getTypeSpelling = fn("clang_getTypeSpelling", FunctionDescriptor.of(CXSTRING, CXTYPE));
            try {
                MethodHandle onChild = MethodHandles.lookup().findVirtual(Clang.class, "onChild",
                        MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class));
                visitor = linker.upcallStub(onChild.bindTo(this),
                        FunctionDescriptor.of(JAVA_INT, CXCURSOR, CXCURSOR, ADDRESS), arena);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            index = (MemorySegment) call(createIndex, 0, 0);
        }

        private MethodHandle fn(String name, FunctionDescriptor desc) {
            MemorySegment addr = lib.find(name).orElseThrow(
                    () -> new BindGenException("libclang has no symbol " + name + " (libclang too old?)"));
            return linker.downcallHandle(addr, desc);
        }

        private static Object call(MethodHandle mh, Object... args) {
            try {
                return mh.invokeWithArguments(args);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        /** Struct-returning downcalls take a SegmentAllocator first. */
        private MemorySegment callStruct(MethodHandle mh, Object... args) {
            Object[] all = new Object[args.length + 1];
            all[0] = arena;
            System.arraycopy(args, 0, all, 1, args.length);
            return (MemorySegment) call(mh, all);
        }

        @SuppressWarnings("unused") // called from native code through the upcall stub
        private int onChild(MemorySegment cursor, MemorySegment parent, MemorySegment data) {
            collected.add(arena.allocate(CXCURSOR).copyFrom(cursor));
            return CHILD_VISIT_CONTINUE;
        }

        List<MemorySegment> children(MemorySegment cursor) {
            List<MemorySegment> saved = collected;
            collected = new ArrayList<>();
            try {
                call(visitChildren, cursor, visitor, MemorySegment.NULL);
                return collected;
            } finally {
                collected = saved;
            }
        }

        String str(MemorySegment cxString) {
            MemorySegment p = (MemorySegment) call(getCString, cxString);
            String s = p.equals(MemorySegment.NULL) ? "" : p.reinterpret(Long.MAX_VALUE).getString(0);
            call(disposeString, cxString);
            return s;
        }

        int kind(MemorySegment cursor) { return (int) call(getCursorKind, cursor); }
        String spelling(MemorySegment cursor) { return str(callStruct(getCursorSpelling, cursor)); }
        String typeSpelling(MemorySegment type) { return str(callStruct(getTypeSpelling, type)); }
        MemorySegment canonical(MemorySegment type) { return callStruct(getCanonicalType, type); }
        static int typeKind(MemorySegment type) { return type.get(JAVA_INT, 0); }

        boolean fromMainFile(MemorySegment cursor) {
            return (int) call(locationIsFromMainFile, callStruct(getCursorLocation, cursor)) != 0;
        }

        Header parse(Path header, List<String> extraArgs) {
            List<String> argv = new ArrayList<>(List.of("-x", "c", "-std=c11"));
            argv.addAll(extraArgs);
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment argvSeg = tmp.allocate(ADDRESS, argv.size());
                for (int i = 0; i < argv.size(); i++) argvSeg.setAtIndex(ADDRESS, i, tmp.allocateFrom(argv.get(i)));
                MemorySegment tu = (MemorySegment) call(parseTranslationUnit, index,
                        tmp.allocateFrom(header.toString()), argvSeg, argv.size(), MemorySegment.NULL, 0, 0);
                if (tu.equals(MemorySegment.NULL)) throw new BindGenException("libclang could not parse " + header);
                try {
                    checkDiagnostics(tu, header);
                    Header h = new Header();
                    visitTop(callStruct(getTranslationUnitCursor, tu), h);
                    return h;
                } finally {
                    call(disposeTranslationUnit, tu);
                }
            }
        }

        private void checkDiagnostics(MemorySegment tu, Path header) {
            int n = (int) call(getNumDiagnostics, tu);
            List<String> errors = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                MemorySegment d = (MemorySegment) call(getDiagnostic, tu, i);
                if ((int) call(getDiagnosticSeverity, d) >= DIAG_ERROR) errors.add(str(callStruct(formatDiagnostic, d, 0)));
                call(disposeDiagnostic, d);
            }
            if (!errors.isEmpty()) throw new BindGenException(header + " does not compile:\n  " + String.join("\n  ", errors));
        }

        private void visitTop(MemorySegment parent, Header h) {
            for (MemorySegment c : children(parent)) {
                int kind = kind(c);
                if (kind == CURSOR_LINKAGE_SPEC) { visitTop(c, h); continue; }
                if (!fromMainFile(c)) continue;
                switch (kind) {
                    case CURSOR_FUNCTION -> addFunction(c, h);
                    case CURSOR_ENUM_DECL -> addEnum(c, h);
                    case CURSOR_TYPEDEF -> addTypedef(c, h);
                    default -> { }
                }
            }
        }

        private void addFunction(MemorySegment c, Header h) {
            String name = spelling(c);
            if (h.functions.stream().anyMatch(f -> f.name.equals(name))) return; // a redeclaration
            MemorySegment type = callStruct(getCursorType, c);
            List<String> problems = new ArrayList<>();
            if ((int) call(isFunctionTypeVariadic, type) != 0) problems.add("variadic functions are not supported");
            MemorySegment resultType = callStruct(getCursorResultType, c);
            JType result = javaType(resultType, "result", true, problems);
            int n = (int) call(getNumArguments, c);
            List<Param> params = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                MemorySegment arg = callStruct(getArgument, c, i);
                MemorySegment argType = callStruct(getCursorType, arg);
                String pname = paramName(spelling(arg), i);
                params.add(new Param(pname, javaType(argType, "parameter " + pname, false, problems), typeSpelling(argType)));
            }
            if (!problems.isEmpty()) {
                h.unsupported.put(name, "function " + name + ": " + String.join("; ", problems));
                return;
            }
            Function f = new Function(name, result, typeSpelling(resultType), params);
            h.functions.add(f);
            h.order.add(f);
        }

        private void addEnum(MemorySegment c, Header h) {
            String enumName = spelling(c);
            if (enumName.contains("(")) enumName = ""; // newer libclang spells anonymous enums "(unnamed enum at file:line)"
            List<String> problems = new ArrayList<>();
            JType type = javaType(callStruct(getEnumDeclIntegerType, c), "integer type", false, problems);
            for (MemorySegment k : children(c)) {
                if (kind(k) != CURSOR_ENUM_CONSTANT) continue;
                if (!problems.isEmpty()) {
                    h.unsupported.put(spelling(k), "enum " + enumName + ": " + String.join("; ", problems));
                    continue;
                }
                EnumConstant e = new EnumConstant(spelling(k), type, (long) call(getEnumConstantDeclValue, k), enumName);
                h.constants.add(e);
                h.order.add(e);
            }
        }

        private void addTypedef(MemorySegment c, Header h) {
            MemorySegment underlying = canonical(callStruct(getTypedefDeclUnderlyingType, c));
            if (typeKind(underlying) != T_POINTER) return;
            MemorySegment fnType = canonical(callStruct(getPointeeType, underlying));
            if (typeKind(fnType) != T_FUNCTION_PROTO) return;
            String name = spelling(c);
            List<String> problems = new ArrayList<>();
            if ((int) call(isFunctionTypeVariadic, fnType) != 0) problems.add("variadic function pointers are not supported");
            // Parameter names and typedef-sugared spellings come from the ParmDecl children (the canonical type has neither).
            List<MemorySegment> parms = new ArrayList<>();
            for (MemorySegment k : children(c)) if (kind(k) == CURSOR_PARM) parms.add(k);
            int n = (int) call(getNumArgTypes, fnType);
            JType result = javaType(callStruct(getResultType, fnType), "result", true, problems);
            List<Param> params = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                MemorySegment argType = callStruct(getArgType, fnType, i);
                boolean named = parms.size() == n;
                String pname = paramName(named ? spelling(parms.get(i)) : "", i);
                String cType = typeSpelling(named ? callStruct(getCursorType, parms.get(i)) : argType);
                params.add(new Param(pname, javaType(argType, "parameter " + pname, false, problems), cType));
            }
            if (!problems.isEmpty()) {
                h.unsupported.put(name, "typedef " + name + ": " + String.join("; ", problems));
                return;
            }
            MemorySegment sugared = callStruct(getResultType,
                    callStruct(getPointeeType, callStruct(getTypedefDeclUnderlyingType, c)));
            String cResult = typeSpelling(typeKind(sugared) != 0 ? sugared : callStruct(getResultType, fnType));
            h.typedefs.add(new FnTypedef(name, result, cResult, params));
        }

        /** Maps a C type to Java, or adds to problems why it cannot and returns null. */
        private JType javaType(MemorySegment type, String where, boolean isResult, List<String> problems) {
            MemorySegment t = canonical(type);
            int k = typeKind(t);
            switch (k) {
                case T_VOID: if (isResult) return JType.VOID; break;
                case T_BOOL: return new JType("boolean", "C_BOOL");
                case T_CHAR_U, T_UCHAR, T_CHAR_S, T_SCHAR: return new JType("byte", "C_CHAR");
                case T_SHORT, T_USHORT: return new JType("short", "C_SHORT");
                case T_INT, T_UINT: return new JType("int", "C_INT");
                case T_LONG, T_ULONG: return new JType("long", "C_LONG");
                case T_LONGLONG, T_ULONGLONG: return new JType("long", "C_LONG_LONG");
                case T_FLOAT: return new JType("float", "C_FLOAT");
                case T_DOUBLE: return new JType("double", "C_DOUBLE");
                case T_POINTER: return new JType("MemorySegment", "C_POINTER");
                case T_CONSTANT_ARRAY, T_INCOMPLETE_ARRAY:
                    if (!isResult) return new JType("MemorySegment", "C_POINTER"); // arrays decay in parameters
                    break;
                case T_ENUM:
                    return javaType(callStruct(getEnumDeclIntegerType, callStruct(getTypeDeclaration, t)), where, isResult, problems);
                default: break;
            }
            problems.add(where + ": unsupported type '" + typeSpelling(type) + "'"
                    + (k == T_RECORD ? " (structs by value)" : k == T_FUNCTION_NOPROTO ? " (K&R function)" : ""));
            return null;
        }

        @Override
        public void close() {
            call(disposeIndex, index);
            arena.close();
        }
    }

    static final Set<String> JAVA_KEYWORDS = Set.of("abstract", "assert", "boolean", "break", "byte", "case", "catch",
            "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends", "final",
            "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long",
            "native", "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void", "volatile",
            "while", "true", "false", "null", "var", "record", "yield", "sealed", "permits", "_");

    static String paramName(String cName, int i) {
        if (cName.isEmpty()) return "x" + i;
        return JAVA_KEYWORDS.contains(cName) || cName.endsWith("$") ? cName + "_" : cName;
    }

    static boolean isJavaIdentifier(String s) {
        if (s.isEmpty() || JAVA_KEYWORDS.contains(s) || !Character.isJavaIdentifierStart(s.charAt(0))) return false;
        return s.chars().allMatch(Character::isJavaIdentifierPart);
    }

    // ------------------------------------------------------------------ Java source

    static final class Emitter {
        final String pkg, cls, source;
        /** A class with a static symbols(String headerClass) returning the SymbolLookup to use; null: loaderLookup. */
        final String symbolsFrom;

        Emitter(String pkg, String cls, String source, String symbolsFrom) {
            this.pkg = pkg;
            this.cls = cls;
            this.source = source;
            this.symbolsFrom = symbolsFrom;
        }

        private void preamble(StringBuilder b) {
            b.append("// Generated by scripts/bindgen from ").append(source).append(". DO NOT EDIT.\n");
            b.append("package ").append(pkg).append(";\n\n");
            b.append("import java.lang.foreign.*;\n");
            b.append("import java.lang.invoke.*;\n\n");
        }

        String headerClass(Header h) {
            StringBuilder b = new StringBuilder();
            preamble(b);
            b.append("/** Bindings for {@code ").append(source).append("}. */\n");
            b.append("@SuppressWarnings({\"unused\", \"restricted\"})\n");
            b.append("public final class ").append(cls).append(" {\n\n");
            b.append("    private ").append(cls).append("() {}\n\n");
            b.append("    /** Where the symbols come from (a library is opened on the first call, not when this class loads). */\n");
            b.append("    static final SymbolLookup SYMBOLS$ = ")
                    .append(symbolsFrom == null ? "SymbolLookup.loaderLookup()"
                            : "name -> " + symbolsFrom + ".symbols(\"" + cls + "\").find(name)")
                    .append(";\n\n");
            b.append("""
                        public static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;
                        public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;
                        public static final ValueLayout.OfShort C_SHORT = ValueLayout.JAVA_SHORT;
                        public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
                        public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
                        public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;
                        public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
                        public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
                                .withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));
                        public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;

                        /** Null when the symbol is not loaded; the call then fails with UnsatisfiedLinkError. */
                        static MethodHandle downcall$(String name, FunctionDescriptor desc) {
                            return SYMBOLS$.find(name)
                                    .map(addr -> Linker.nativeLinker().downcallHandle(addr, desc))
                                    .orElse(null);
                        }

                        static MethodHandle require$(MethodHandle handle, String name) {
                            if (handle == null) {
                                throw new UnsatisfiedLinkError("unresolved symbol: " + name);
                            }
                            return handle;
                        }
                    """);
            for (Decl d : h.order) {
                b.append('\n');
                switch (d) {
                    case Function f -> function(b, f);
                    case EnumConstant e -> constant(b, e);
                }
            }
            b.append("}\n");
            return b.toString();
        }

        private void constant(StringBuilder b, EnumConstant e) {
            boolean isLong = e.type.java().equals("long");
            String value = isLong ? e.value + "L" : Integer.toString((int) e.value);
            String enumName = e.enumName.isEmpty() ? "" : e.enumName + ".";
            b.append("    /** {@code ").append(enumName).append(e.name).append(" = ").append(e.value).append("} */\n");
            b.append("    public static ").append(e.type.java()).append(' ').append(e.name).append("() {\n");
            b.append("        return ").append(value).append(";\n");
            b.append("    }\n");
        }

        private String descriptor(JType result, List<Param> params, String indent) {
            StringBuilder b = new StringBuilder();
            b.append(result.isVoid() ? "FunctionDescriptor.ofVoid(" : "FunctionDescriptor.of(");
            List<String> layouts = new ArrayList<>();
            if (!result.isVoid()) layouts.add(cls + "." + result.layout());
            for (Param p : params) layouts.add(cls + "." + p.type().layout());
            for (int i = 0; i < layouts.size(); i++) {
                b.append('\n').append(indent).append(layouts.get(i)).append(i + 1 < layouts.size() ? "," : "");
            }
            return b.append(')').toString();
        }

        private static String paramList(List<Param> params) {
            List<String> s = new ArrayList<>();
            for (Param p : params) s.add(p.type().java() + " " + p.name());
            return String.join(", ", s);
        }

        private static String argList(List<Param> params) {
            List<String> s = new ArrayList<>();
            for (Param p : params) s.add(p.name());
            return String.join(", ", s);
        }

        private static String cSignature(String cResult, String name, List<Param> params) {
            List<String> s = new ArrayList<>();
            for (Param p : params) s.add(p.cSpelling() + (p.cSpelling().endsWith("*") ? "" : " ") + p.name());
            String res = cResult.endsWith("*") ? cResult : cResult + " ";
            return res + name + "(" + (s.isEmpty() ? "void" : String.join(", ", s)) + ")";
        }

        private static void invoke(StringBuilder b, String indent, JType result, String handle, String args) {
            b.append(indent).append("try {\n");
            b.append(indent).append("    ");
            if (!result.isVoid()) b.append("return (").append(result.java()).append(") ");
            b.append(handle).append(".invokeExact(").append(args).append(");\n");
            b.append(indent).append("} catch (Error | RuntimeException ex$) {\n");
            b.append(indent).append("    throw ex$;\n");
            b.append(indent).append("} catch (Throwable ex$) {\n");
            b.append(indent).append("    throw new AssertionError(\"should not reach here\", ex$);\n");
            b.append(indent).append("}\n");
        }

        private void function(StringBuilder b, Function f) {
            String n = f.name();
            b.append("    private static final class ").append(n).append(" {\n");
            b.append("        static final FunctionDescriptor DESC = ").append(descriptor(f.result(), f.params(), "                "))
                    .append(";\n");
            b.append("        static final MethodHandle HANDLE = downcall$(\"").append(n).append("\", DESC);\n");
            b.append("    }\n\n");
            b.append("    public static FunctionDescriptor ").append(n).append("$descriptor() {\n");
            b.append("        return ").append(n).append(".DESC;\n");
            b.append("    }\n\n");
            b.append("    public static MethodHandle ").append(n).append("$handle() {\n");
            b.append("        return require$(").append(n).append(".HANDLE, \"").append(n).append("\");\n");
            b.append("    }\n\n");
            b.append("    /** {@code ").append(cSignature(f.cResult(), n, f.params())).append("} */\n");
            b.append("    public static ").append(f.result().java()).append(' ').append(n).append('(')
                    .append(paramList(f.params())).append(") {\n");
            b.append("        var mh$ = require$(").append(n).append(".HANDLE, \"").append(n).append("\");\n");
            invoke(b, "        ", f.result(), "mh$", argList(f.params()));
            b.append("    }\n");
        }

        String typedefClass(FnTypedef t) {
            String n = t.name();
            StringBuilder b = new StringBuilder();
            preamble(b);
            b.append("/** The function pointer {@code typedef ").append(cSignature(t.cResult(), "(*" + n + ")", t.params()))
                    .append("}. */\n");
            b.append("@SuppressWarnings(\"restricted\")\n");
            b.append("public final class ").append(n).append(" {\n\n");
            b.append("    private ").append(n).append("() {}\n\n");
            b.append("    /** The Java side of the function pointer. It must not throw: an exception escaping an upcall ends the JVM. */\n");
            b.append("    public interface Function {\n");
            b.append("        ").append(t.result().java()).append(" apply(").append(paramList(t.params())).append(");\n");
            b.append("    }\n\n");
            b.append("    private static final FunctionDescriptor $DESC = ").append(descriptor(t.result(), t.params(), "            "))
                    .append(";\n\n");
            b.append("    public static FunctionDescriptor descriptor() {\n");
            b.append("        return $DESC;\n");
            b.append("    }\n\n");
            b.append("""
                        private static final MethodHandle UP$MH;
                        static {
                            try {
                                UP$MH = MethodHandles.lookup().findVirtual(Function.class, "apply", $DESC.toMethodType());
                            } catch (ReflectiveOperationException ex$) {
                                throw new ExceptionInInitializerError(ex$);
                            }
                        }

                        /** An upcall stub for fi, valid as long as arena is alive. */
                        public static MemorySegment allocate(Function fi, Arena arena) {
                            return Linker.nativeLinker().upcallStub(UP$MH.bindTo(fi), $DESC, arena);
                        }

                        private static final MethodHandle DOWN$MH = Linker.nativeLinker().downcallHandle($DESC);

                    """);
            b.append("    /** Calls the function pointer funcPtr. */\n");
            String params = paramList(t.params());
            b.append("    public static ").append(t.result().java()).append(" invoke(MemorySegment funcPtr")
                    .append(params.isEmpty() ? "" : ", " + params).append(") {\n");
            String args = argList(t.params());
            invoke(b, "        ", t.result(), "DOWN$MH", "funcPtr" + (args.isEmpty() ? "" : ", " + args));
            b.append("    }\n");
            b.append("}\n");
            return b.toString();
        }
    }
}
