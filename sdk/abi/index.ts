export { guardianRegistryAbi } from "./GuardianRegistry.ts";
export { resetCoordinatorAbi } from "./ResetCoordinator.ts";
export { committeeRegistryAbi } from "./CommitteeRegistry.ts";
export { recoverableAccountAbi } from "./RecoverableAccount.ts";
