export { guardianRegistryAbi } from "./GuardianRegistry.ts";
export { resetCoordinatorAbi } from "./ResetCoordinator.ts";
export { recoverableAccountAbi } from "./RecoverableAccount.ts";
