package org.projntk;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure that module-info.java describes: one-way layers, no cycles between packages, only
 * {@code internal} calls the generated {@code bindings}, and the exported API names no type of a package that is not
 * exported.
 */
class ArchitectureTest {
    /**
     * The layers from the bottom up, as module-info.java lists them. A package may use the packages of the layers
     * below its own, never one above, nor another package of its own layer. The generated bindings call back into
     * {@code internal} (library loading), so they share its layer.
     */
    static final List<List<String>> LAYERS = List.of(
            List.of("org.projntk", "org.projntk.tensor"),
            List.of("org.projntk.internal", "org.projntk.bindings"),
            List.of("org.projntk.stats"),
            List.of("org.projntk.data"),
            List.of("org.projntk.torch"),
            List.of("org.projntk.project"),
            List.of("org.projntk.store"),
            List.of("org.projntk.featurize"),
            List.of("org.projntk.kernel"),
            List.of("org.projntk.plot"),
            List.of("org.projntk.surrogate", "org.projntk.residual", "org.projntk.similar", "org.projntk.attribution",
                    "org.projntk.baseline"),
            List.of("org.projntk.workflow"),
            List.of("org.projntk.demo"),
            List.of("org.projntk.cli"));

    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("org.projntk");
    }

    /** A layer per package group; internal and bindings are one layer, as both are one unit to the rest. */
    static String layerName(String pkg) {
        return pkg.equals("org.projntk.bindings") ? "org.projntk.internal" : pkg;
    }

    @Test
    void everyPackageHasALayer() {
        Set<String> known = new TreeSet<>();
        LAYERS.forEach(known::addAll);
        Set<String> found = new TreeSet<>();
        for (JavaClass c : classes) found.add(c.getPackageName());
        assertEquals(known, found, "ArchitectureTest.LAYERS and module-info.java must name every package of the library");
    }

    @Test
    void layersOnlyUseTheLayersBelow() {
        LayeredArchitecture arch = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (List<String> tier : LAYERS) {
            for (String pkg : tier) {
                if (pkg.equals("org.projntk.bindings")) continue;
                if (pkg.equals("org.projntk.internal")) {
                    arch = arch.layer(pkg).definedBy("org.projntk.internal", "org.projntk.bindings");
                } else {
                    arch = arch.layer(pkg).definedBy(pkg);
                }
            }
        }
        List<String> below = new ArrayList<>();
        for (List<String> tier : LAYERS) {
            Set<String> names = new LinkedHashSet<>();
            for (String pkg : tier) names.add(layerName(pkg));
            for (String name : names) {
                arch = below.isEmpty() ? arch.whereLayer(name).mayNotAccessAnyLayer()
                        : arch.whereLayer(name).mayOnlyAccessLayers(below.toArray(String[]::new));
            }
            below.addAll(names);
        }
        arch.check(classes);
    }

    @Test
    void noCyclesBetweenPackages() {
        // bindings -> internal (the generated code asks NativeLibraries for its symbols) is the one allowed loop
        slices().matching("org.projntk.(*)..").should().beFreeOfCycles()
                .ignoreDependency(JavaClass.Predicates.resideInAPackage("org.projntk.bindings.."),
                        JavaClass.Predicates.resideInAPackage("org.projntk.internal.."))
                .check(classes);
    }

    @Test
    void onlyInternalCallsTheBindings() {
        noClasses().that().resideOutsideOfPackages("org.projntk.internal..", "org.projntk.bindings..")
                .should().dependOnClassesThat().resideInAPackage("org.projntk.bindings..")
                .check(classes);
    }

    /** The packages that the library's own module-info.class exports (not a dependency's, also on the class path). */
    static Set<String> exportedPackages() throws IOException, URISyntaxException {
        Path classes = Path.of(ProjntkException.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            Set<String> out = new TreeSet<>();
            for (ModuleDescriptor.Exports e : ModuleDescriptor.read(in).exports()) {
                if (!e.isQualified()) out.add(e.source());
            }
            return out;
        }
    }

    @Test
    void exportedApiNamesOnlyExportedTypes() throws Exception {
        Set<String> exported = exportedPackages();
        assertTrue(exported.contains("org.projntk.surrogate") && !exported.contains("org.projntk.internal"), exported.toString());
        DescribedPredicate<JavaClass> inExportedPackage = new DescribedPredicate<>("are in an exported package") {
            @Override
            public boolean test(JavaClass c) {
                return exported.contains(c.getPackageName());
            }
        };
        classes().that().arePublic().and(inExportedPackage)
                .should(exposeOnlyExportedTypes(exported))
                .check(classes);
    }

    static boolean visible(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    static ArchCondition<JavaClass> exposeOnlyExportedTypes(Set<String> exported) {
        return new ArchCondition<>("name only types of exported packages (or of the JDK and dependencies) in their public signatures") {
            private void check(JavaClass owner, String where, JavaType type, ConditionEvents events) {
                for (JavaClass raw : type.getAllInvolvedRawTypes()) {
                    String pkg = raw.getPackageName();
                    if ((pkg.equals("org.projntk") || pkg.startsWith("org.projntk.")) && !exported.contains(pkg)) {
                        events.add(SimpleConditionEvent.violated(owner, where + " exposes " + raw.getName()
                                + ", whose package is not exported"));
                    }
                }
            }

            @Override
            public void check(JavaClass c, ConditionEvents events) {
                if (c.getEnclosingClass().isPresent() && !visible(c.getModifiers())) return;
                c.getRawSuperclass().ifPresent(s -> check(c, c.getName() + " extends", s, events));
                for (JavaType i : c.getInterfaces()) check(c, c.getName() + " implements", i, events);
                for (JavaField f : c.getFields()) {
                    if (visible(f.getModifiers())) check(c, f.getFullName(), f.getType(), events);
                }
                List<JavaCodeUnit> units = new ArrayList<>(c.getCodeUnits());
                for (JavaCodeUnit u : units) {
                    if (!visible(u.getModifiers()) || u.getModifiers().contains(JavaModifier.SYNTHETIC)) continue;
                    check(c, u.getFullName(), u.getReturnType(), events);
                    for (JavaType p : u.getParameterTypes()) check(c, u.getFullName(), p, events);
                    for (JavaClass t : u.getExceptionTypes()) check(c, u.getFullName(), t, events);
                }
            }
        };
    }
}
