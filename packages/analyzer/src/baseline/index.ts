export { CONTROL_PACKAGE, learnControlBaseline, type ControlBaseline } from './control-baseline.js';
