export { decide, type DecideInput, type Decision, type PersonOpinion } from './decide.js';
export { behaviourFindings } from './behaviour-findings.js';
