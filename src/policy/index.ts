export {
  evaluate,
  parsePolicy,
  policyUsesThingVariables,
  policyVariables,
  resourceArn,
  PolicySyntaxError,
  TEST_AUTHORIZATION_ACTIONS,
} from './evaluate.js';
export { certificateNameFields } from './certificate-fields.js';
export type {
  AuthDecision,
  Decision,
  EvalContext,
  IotAction,
  MatchedStatement,
  ParsedCondition,
  ParsedPolicy,
  ParsedStatement,
  PolicyDocumentInput,
  ResourceKind,
  ValueSegment,
  ValueTemplate,
} from './evaluate.js';
