// The classifiers the monitor runs, in the order ties are broken.

import type { Classifier } from './classifier.js';

export function defaultClassifiers(): Classifier[] {
  return [];
}
