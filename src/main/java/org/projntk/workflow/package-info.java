/**
 * The embedding API's entry points over a feature store: {@link org.projntk.workflow.Store} reads features, Gram
 * matrices, nearest training rows, the kernel surrogate and TRAK scores by split name. Featurize with
 * {@link org.projntk.featurize.Featurize}.
 */
package org.projntk.workflow;
